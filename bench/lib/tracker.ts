import { benchNumber, frameType, seqOf } from "./frames.js";

export interface TrackedChat {
  readonly conversation: number;
  readonly server: number;
  /** Per message of this run into the socket's conversation: seen already. */
  seen: Uint8Array;
  lastSeq: number;
}

export interface TrackedList {
  readonly server: number;
  seen: Uint8Array;
}

/**
 * One measured window: messages `base .. base+count-1`, message `i` of the window going to
 * conversation `i % conversations`. Every delivery is checked against the socket's own record,
 * so losses and duplicates are counted per message and socket, not inferred from totals.
 */
export class Run {
  readonly sentAt: Float64Array;
  /** Per message: its slowest delivery so far, in ms (for `timeline`). */
  readonly slowest: Float64Array;
  /** The server each message was posted or sent to (local versus remote delivery). */
  readonly from: Uint8Array;
  readonly local: number[] = [];
  readonly remote: number[] = [];
  unique = 0;
  duplicates = 0;
  strays = 0;
  orderErrors = 0;
  listUnique = 0;
  listDuplicates = 0;

  constructor(
    readonly base: number,
    readonly count: number,
    readonly conversations: number,
  ) {
    this.sentAt = new Float64Array(count);
    this.slowest = new Float64Array(count);
    this.from = new Uint8Array(count);
  }

  /** Messages of the window per conversation, rounded up: the size of a socket's record. */
  get perConversation(): number {
    return Math.ceil(this.count / this.conversations);
  }

  chat(socket: TrackedChat, data: Buffer, now: number): void {
    if (frameType(data) !== "chat_message") return;
    const i = benchNumber(data) - this.base;
    if (i < 0 || i >= this.count || i % this.conversations !== socket.conversation) {
      this.strays++;
      return;
    }
    const seq = seqOf(data);
    if (seq <= socket.lastSeq) this.orderErrors++;
    socket.lastSeq = seq;
    const slot = Math.floor(i / this.conversations);
    if (socket.seen[slot] === 1) {
      this.duplicates++;
      return;
    }
    socket.seen[slot] = 1;
    this.unique++;
    const latency = now - (this.sentAt[i] ?? now);
    if (latency > (this.slowest[i] ?? 0)) this.slowest[i] = latency;
    (socket.server === this.from[i] ? this.local : this.remote).push(latency);
  }

  /**
   * The slowest delivery of the messages due in each stretch of `stretchMs` of the window, in
   * whole ms: shows whether a failed p99 is a stall (a run of high values that drains) or a
   * steady queue.
   */
  timeline(rate: number, stretchMs: number): number[] {
    const perStretch = Math.max(1, Math.round((rate * stretchMs) / 1000));
    const stretches: number[] = [];
    for (let first = 0; first < this.count; first += perStretch) {
      const slice = this.slowest.subarray(first, Math.min(this.count, first + perStretch));
      stretches.push(Math.round(Math.max(...slice)));
    }
    return stretches;
  }

  list(socket: TrackedList, data: Buffer): void {
    if (frameType(data) !== "new_customer_message") return;
    const i = benchNumber(data) - this.base;
    if (i < 0 || i >= this.count) return;
    if (socket.seen[i] === 1) {
      this.listDuplicates++;
      return;
    }
    socket.seen[i] = 1;
    this.listUnique++;
  }
}
