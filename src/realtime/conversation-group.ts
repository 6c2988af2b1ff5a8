import type { Logger } from "pino";
import type { ConversationEvent } from "../domain/events.js";
import type { Message } from "../domain/types.js";
import { chatMessageFrame, frameFor } from "./frames.js";
import { SharedFrame } from "./shared-frame.js";
import type { SocketMember } from "./socket-member.js";

/** Reads stored messages with seq > afterSeq, oldest first (the store's `after`). */
export type FetchAfter = (conversationId: string, afterSeq: number) => Promise<Message[]>;

// Process-wide, so that a group made again for the same conversation never repeats a version.
let lastVersion = 0;

/**
 * This process's sockets of one conversation. Messages may arrive out of `seq` order (several
 * writers, several processes) or not at all (a bus outage); the group releases them strictly in
 * order: an early one waits `gapWaitMs` for its predecessor, then the gap is read from the store.
 */
export class ConversationGroup {
  readonly members = new Set<SocketMember>();
  /** Highest seq released to the members; undefined until `start`. */
  private delivered: number | undefined;
  private readonly held = new Map<number, Message>();
  private gapTimer: NodeJS.Timeout | undefined;
  private filling = false;
  /** A catch-up asked for while a fill was reading: that read may predate what it must find. */
  private refill = false;
  /**
   * Changed by everything that may change what the store shows of the conversation: an event
   * (typing aside), a message accepted from a gap fill, a catch-up. A snapshot read under one
   * version is exact while the version stays (see `recent-snapshots.ts`).
   */
  version = ++lastVersion;
  /** Set by `stop`: the group's subscription is gone, nothing it knew stays exact. */
  stopped = false;

  constructor(
    readonly conversationId: string,
    private readonly fetchAfter: FetchAfter,
    private readonly gapWaitMs: number,
    private readonly log: Logger,
    /** Told when a message's frame went to the members, with its commit time (fan-out delay). */
    private readonly onFanout?: (committedAt: number) => void,
  ) {}

  /** The stored seq when the subscription became active; anything up to it is in snapshots. */
  start(storedSeq: number): void {
    this.delivered = storedSeq;
    for (const seq of this.held.keys()) if (seq <= storedSeq) this.held.delete(seq);
    this.release();
  }

  onEvent(event: ConversationEvent): void {
    if (event.kind === "message_created") {
      this.accept(event.message);
      return;
    }
    if (event.kind !== "typing") this.version = ++lastVersion;
    const frame = new SharedFrame(frameFor(event));
    const skip = event.kind === "typing" ? event.originSocketId : undefined;
    for (const member of this.members) if (member.id !== skip) member.deliver(frame);
  }

  /** After a bus outage: read whatever was stored past what we released. */
  catchUp(): void {
    this.version = ++lastVersion;
    void this.fill();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    this.held.clear();
  }

  private accept(message: Message): void {
    this.version = ++lastVersion;
    if (this.delivered !== undefined && message.seq <= this.delivered) return;
    this.held.set(message.seq, message);
    this.release();
  }

  private release(): void {
    if (this.delivered === undefined) return;
    let next = this.held.get(this.delivered + 1);
    while (next) {
      this.held.delete(next.seq);
      this.delivered = next.seq;
      const frame = new SharedFrame(chatMessageFrame(next));
      for (const member of this.members) member.deliver(frame, next.seq);
      // `createdAt` is taken inside the storing transaction, a moment before its commit.
      if (this.members.size > 0) this.onFanout?.(next.createdAt);
      next = this.held.get(this.delivered + 1);
    }
    if (this.held.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    } else {
      this.gapTimer ??= setTimeout(() => {
        this.gapTimer = undefined;
        void this.fill();
      }, this.gapWaitMs);
    }
  }

  private async fill(): Promise<void> {
    if (this.delivered === undefined) return;
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = true;
    this.refill = false;
    try {
      // Loop: a large gap may take several pages.
      for (;;) {
        const from: number = this.delivered ?? 0;
        const missing = await this.fetchAfter(this.conversationId, from);
        for (const message of missing) this.accept(message);
        if (missing.length === 0 || this.delivered === from) break;
      }
    } catch (err) {
      this.log.warn({ err, conversation: this.conversationId }, "gap fill failed");
    } finally {
      this.filling = false;
    }
    if (this.refill) {
      void this.fill();
      return;
    }
    // Still waiting for a message the store does not show yet: try again later.
    if (this.held.size > 0 && !this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        void this.fill();
      }, this.gapWaitMs);
    }
  }
}
