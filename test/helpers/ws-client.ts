import WebSocket, { type ClientOptions } from "ws";

export type Frame = { type: string } & Record<string, unknown>;

/**
 * A real `ws` client that records every frame in arrival order and lets a test await the next
 * one (optionally of a given type), so tests can assert exact frames and their order.
 */
export class WsClient {
  readonly frames: Frame[] = [];
  private cursor = 0;
  private wake: (() => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake?.();
      });
    });
  }

  static connect(url: string, options?: ClientOptions): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options);
      const client = new WsClient(socket);
      socket.once("open", () => resolve(client));
      socket.once("error", reject);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next unread frame (of `type`, skipping others when given). */
  async next(type?: string, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++] as Frame;
        if (!type || frame.type === type) return frame;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(
          `no ${type ?? "frame"} within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-3))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Frames of `type` until `count` have arrived. */
  async collect(type: string, count: number, timeoutMs = 10_000): Promise<Frame[]> {
    const out: Frame[] = [];
    while (out.length < count) out.push(await this.next(type, timeoutMs));
    return out;
  }

  /** Resolves with the unread frames after `ms` of waiting; for "nothing else arrived" checks. */
  async drain(ms = 150): Promise<Frame[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    const rest = this.frames.slice(this.cursor);
    this.cursor = this.frames.length;
    return rest;
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    return this.closed;
  }
}
