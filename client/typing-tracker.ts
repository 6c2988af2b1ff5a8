import type { TypingIndicatorFrame } from "./wire.js";

/** Someone typing in a conversation; `user_id` is `null` for automatic answers. */
export interface TypingUser {
  user_id: number | null;
  username: string;
}

/** An indicator without news for this long is dropped: the typist's `false` may never come. */
export const TYPING_EXPIRY_MS = 6_000;

/** Who is typing now, from `typing_indicator` frames, each entry expiring by itself. */
export class TypingTracker {
  private readonly entries = new Map<
    string,
    { user: TypingUser; timer: ReturnType<typeof setTimeout> }
  >();

  constructor(
    private readonly onChange: (typing: TypingUser[]) => void,
    private readonly expiryMs = TYPING_EXPIRY_MS,
  ) {}

  observe(frame: TypingIndicatorFrame): void {
    const key = `${frame.user_id ?? "ai"}:${frame.username}`;
    const held = this.entries.get(key);
    if (held) clearTimeout(held.timer);
    if (frame.is_typing) {
      const user = { user_id: frame.user_id, username: frame.username };
      const timer = setTimeout(() => {
        this.entries.delete(key);
        this.emit();
      }, this.expiryMs);
      this.entries.set(key, { user, timer });
      if (!held) this.emit();
    } else if (held) {
      this.entries.delete(key);
      this.emit();
    }
  }

  clear(): void {
    const had = this.entries.size > 0;
    for (const { timer } of this.entries.values()) clearTimeout(timer);
    this.entries.clear();
    if (had) this.emit();
  }

  private emit(): void {
    this.onChange([...this.entries.values()].map((e) => e.user));
  }
}
