import type { Customer, MessagePage } from "../domain/types.js";
import { customerView } from "../domain/views.js";
import { messagesFrame } from "./frames.js";
import { SharedFrame } from "./shared-frame.js";
import type { SocketMember } from "./socket-member.js";

// The `recent_messages` snapshot of a conversation, kept in memory between connects. Reading,
// parsing and serializing the newest 50 messages was a third of a connect's CPU; a reload, a
// reconnect or an agent switching back to a conversation asks for the same frame again.
//
// A kept frame is exact, not merely recent: it is tied to the conversation group's `version`,
// which every event of the conversation changes (a message stored or updated, messages read, a
// gap filled, a bus resync). The group is subscribed before the frame is read, so every change
// committed after that read reaches the group as an event, which retires the frame. Messages
// committed after the read whose events are still on their way reach the new socket live, as
// they would after a store read. The customer is the one part of the frame that changes without
// a conversation event (a profile fetch tells list sockets only): the frame is kept with the
// customer it shows, and each connect compares it with the one it has just read.

/** How long a kept frame may serve, as a backstop should any change ever come without an event. */
export const RECENT_SNAPSHOT_MAX_AGE_MS = 2000;
/** Memory kept frames may take in one process; the oldest go first. */
export const RECENT_SNAPSHOT_MAX_BYTES = 16 * 1024 * 1024;

export interface RecentSnapshot {
  frame: SharedFrame;
  /** The seq of the frame's newest message (0 for none): the socket goes live after it. */
  lastSeq: number;
}

interface Kept extends RecentSnapshot {
  version: number;
  customer: string;
  keptAt: number;
  bytes: number;
}

/** The kept frames of one process, by conversation, oldest first. */
export class RecentSnapshots {
  private readonly kept = new Map<string, Kept>();
  private bytes = 0;

  constructor(
    private readonly limits: { maxAgeMs: number; maxBytes: number } = {
      maxAgeMs: RECENT_SNAPSHOT_MAX_AGE_MS,
      maxBytes: RECENT_SNAPSHOT_MAX_BYTES,
    },
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.kept.size;
  }

  /** The frame kept at `version` for this customer, if it is still fresh. */
  get(conversationId: string, version: number, customer: string): RecentSnapshot | undefined {
    const kept = this.kept.get(conversationId);
    if (!kept) return undefined;
    if (
      kept.version === version &&
      kept.customer === customer &&
      this.now() - kept.keptAt <= this.limits.maxAgeMs
    ) {
      return kept;
    }
    // Versions only grow and a fresher read replaces it: this frame will not serve again.
    this.delete(conversationId);
    return undefined;
  }

  keep(conversationId: string, version: number, customer: string, snapshot: RecentSnapshot): void {
    this.delete(conversationId);
    const now = this.now();
    // A string's characters take one or two bytes each; the finished frame is its UTF-8 bytes.
    const bytes = snapshot.frame.text.length * 2 + snapshot.frame.wire.length;
    if (bytes > this.limits.maxBytes) return;
    this.kept.set(conversationId, { ...snapshot, version, customer, keptAt: now, bytes });
    this.bytes += bytes;
    // Oldest first: drop what has aged out, then whatever the budget cannot hold.
    for (const [id, oldest] of this.kept) {
      if (now - oldest.keptAt <= this.limits.maxAgeMs && this.bytes <= this.limits.maxBytes) break;
      this.delete(id);
    }
  }

  delete(conversationId: string): void {
    const kept = this.kept.get(conversationId);
    if (!kept) return;
    this.kept.delete(conversationId);
    this.bytes -= kept.bytes;
  }
}

/** What a joined socket needs to use its conversation's kept snapshot. */
export interface RecentSlot {
  /** The kept frame, if it is exact for this customer now. */
  cached(customer: string): RecentSnapshot | undefined;
  /** Keeps a frame read after the join, unless an event came while it was read. */
  keep(customer: string, snapshot: RecentSnapshot): void;
}

/** The key a frame is kept under: the customer exactly as its messages show it. */
export const customerKey = (customer: Customer): string => JSON.stringify(customerView(customer));

/**
 * Sends `recent_messages` (the newest page, no `after_seq`) to a member that has joined its
 * conversation, from memory when that is exact, else read with `read`, and goes live after it.
 */
export async function sendRecent(
  slot: RecentSlot,
  customer: Customer,
  member: SocketMember,
  read: () => Promise<MessagePage>,
): Promise<void> {
  const key = customerKey(customer);
  let snapshot = slot.cached(key);
  if (!snapshot) {
    const page = await read();
    snapshot = {
      frame: new SharedFrame(messagesFrame("recent_messages", page.messages, page.hasMore)),
      lastSeq: page.messages.at(-1)?.seq ?? 0,
    };
    slot.keep(key, snapshot);
  }
  member.send(snapshot.frame);
  member.goLive(snapshot.lastSeq);
}
