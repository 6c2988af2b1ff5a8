import { randomBytes } from "node:crypto";
import type { WebSocket } from "ws";
import { Close, type CloseCode, CloseReason } from "./close-codes.js";

// A socket that outgrows this much unsent data is too slow to keep up; dropping it lets the
// client reconnect and resume with `after_seq` instead of the server buffering without bound.
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

// Unique across processes, so that an event from another process can name its origin socket.
const processTag = randomBytes(4).toString("hex");
let counter = 0;

interface Queued {
  frame: string;
  seq: number | undefined;
}

/**
 * One connected socket as its groups see it. Frames are held while the snapshot is being
 * read and sent, then released; frames with a `seq` the socket already has are skipped, so a
 * snapshot and a live frame never show a message twice.
 */
export class SocketMember {
  readonly id = `${processTag}-${++counter}`;
  /** Cleared by each heartbeat ping, set again by the pong. */
  alive = true;
  private live = false;
  private queue: Queued[] = [];
  private lastSeq = 0;

  constructor(readonly socket: WebSocket) {}

  /** Sends now, whatever the state (answers to this socket's own requests). */
  send(frame: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(Close.Policy);
      return;
    }
    this.socket.send(frame);
  }

  /** A frame from a group: held until `goLive`, skipped if its seq is not new. */
  deliver(frame: string, seq?: number): void {
    if (!this.live) {
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
    this.queue = [];
    for (const item of queued) this.deliver(item.frame, item.seq);
  }

  close(code: CloseCode): void {
    if (this.socket.readyState === this.socket.CLOSED) return;
    this.socket.close(code, CloseReason[code]);
  }
}
