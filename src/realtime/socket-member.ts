import { randomBytes } from "node:crypto";
import type { WebSocket } from "ws";
import { Close, type CloseCode, CloseReason } from "./close-codes.js";
import type { Expiring } from "./expiry-schedule.js";
import { frameStream, SharedFrame } from "./shared-frame.js";

// A socket that outgrows `maxBufferedBytes` of unsent data is too slow to keep up; dropping it
// lets the client reconnect and resume with `after_seq` instead of the server buffering without
// bound.
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Settings shared by every member of a server (one object, not one per socket). */
export interface MemberOptions {
  maxBufferedBytes: number;
  /** Told of every frame written (the metrics count them by type). */
  onSent: ((frame: string) => void) | undefined;
}

const DEFAULT_OPTIONS: MemberOptions = {
  maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
  onSent: undefined,
};

// Unique across processes, so that an event from another process can name its origin socket.
const processTag = randomBytes(4).toString("hex");
let counter = 0;

interface Queued {
  frame: string | SharedFrame;
  seq: number | undefined;
}

/**
 * One connected socket as its groups see it. Frames are held while the snapshot is being
 * read and sent, then released; frames with a `seq` the socket already has are skipped, so a
 * snapshot and a live frame never show a message twice.
 */
export class SocketMember implements Expiring {
  readonly id = `${processTag}-${++counter}`;
  /** Cleared by each heartbeat ping, set again by the pong. */
  alive = true;
  private live = false;
  /** Frames held until `goLive`; made only when one arrives while the snapshot is read. */
  private queue: Queued[] | undefined = undefined;
  private lastSeq = 0;
  /** The code this server closed the socket with, when it was the server that closed it. */
  closedWith: CloseCode | undefined;
  /** The access token's expiry (epoch ms), kept by the process's `ExpirySchedule`. */
  expiresAt = 0;
  expiryIndex = -1;

  constructor(
    readonly socket: WebSocket,
    private readonly options: MemberOptions = DEFAULT_OPTIONS,
  ) {}

  /** The access token expired while connected (protocol.md section 4). */
  expire(): void {
    this.close(Close.Unauthorized);
  }

  /** Sends now, whatever the state (answers to this socket's own requests). */
  send(frame: string | SharedFrame): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      // A close frame would wait behind everything the client is not reading: drop the
      // connection now, so that its buffer is freed at once.
      this.closedWith = Close.Policy;
      this.socket.terminate();
      return;
    }
    if (typeof frame === "string") {
      this.socket.send(frame);
      this.options.onSent?.(frame);
    } else {
      const stream = frameStream(this.socket);
      if (stream) stream.write(frame.wire);
      else this.socket.send(frame.bytes, SharedFrame.sendOptions);
      this.options.onSent?.(frame.text);
    }
  }

  /** A frame from a group: held until `goLive`, skipped if its seq is not new. */
  deliver(frame: string | SharedFrame, seq?: number): void {
    if (!this.live) {
      this.queue ??= [];
      this.queue.push({ frame, seq });
      return;
    }
    if (seq !== undefined) {
      if (seq <= this.lastSeq) return;
      this.lastSeq = seq;
    }
    this.send(frame);
  }

  /** The snapshot up to `lastSeq` was sent: release what arrived meanwhile. */
  goLive(lastSeq: number): void {
    this.lastSeq = Math.max(this.lastSeq, lastSeq);
    this.live = true;
    const queued = this.queue;
    this.queue = undefined;
    if (queued) for (const item of queued) this.deliver(item.frame, item.seq);
  }

  close(code: CloseCode, reason: string = CloseReason[code]): void {
    if (this.socket.readyState === this.socket.CLOSED) return;
    this.closedWith ??= code;
    this.socket.close(code, reason);
  }
}
