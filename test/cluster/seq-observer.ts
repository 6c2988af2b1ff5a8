import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";

/** Where a reconnecting observer may go: the base ws:// URLs of the processes still up. */
export type PickServer = (exclude: string) => string | undefined;

const RECONNECT_DEADLINE_MS = 10_000;

/**
 * A chat socket that behaves like a well-written client: it records the seq of every message it
 * is shown (snapshot, live `chat_message`, resumed tail) and, when its server goes away, connects
 * to another one with `after_seq` set to the last seq it has. The test then checks that the
 * sequence it ends with is 1..N, each once, in order.
 */
export class SeqObserver {
  readonly seqs: number[] = [];
  readonly closeCodes: number[] = [];
  /** Unexpected frames (errors), for failure messages. */
  readonly oddities: string[] = [];
  /** When the last seq arrived (ms since epoch). */
  lastAt = 0;
  reconnects = 0;
  server: string;
  private socket: WebSocket | undefined;
  private stopped = false;
  private reconnecting: Promise<void> | undefined;

  private constructor(
    server: string,
    private readonly conversationId: string,
    private readonly token: string,
    private readonly pick: PickServer | undefined,
  ) {
    this.server = server;
  }

  /** Connects and resolves once the first snapshot (`recent_messages`) was read. */
  static async open(
    server: string,
    conversationId: string,
    token: string,
    pick?: PickServer,
  ): Promise<SeqObserver> {
    const observer = new SeqObserver(server, conversationId, token, pick);
    await observer.connect(server, undefined);
    return observer;
  }

  get last(): number {
    return this.seqs.at(-1) ?? 0;
  }

  /** Resolves once seq `seq` was seen; rejects after `timeoutMs`. */
  async waitForSeq(seq: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.last < seq) {
      if (Date.now() > deadline) {
        throw new Error(
          `socket on ${this.server} stopped at seq ${this.last} (wanted ${seq}); ` +
            `closes ${JSON.stringify(this.closeCodes)} ${this.oddities.slice(0, 3).join(" ")}`,
        );
      }
      await sleep(10);
    }
  }

  close(): void {
    this.stopped = true;
    this.socket?.close();
  }

  private connect(server: string, afterSeq: number | undefined): Promise<void> {
    const query = afterSeq === undefined ? "" : `&after_seq=${afterSeq}`;
    const url = `${server}/ws/chat/${this.conversationId}/?token=${this.token}${query}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      let snapshot = false;
      socket.on("message", (data) => {
        const frame = JSON.parse(String(data)) as {
          type: string;
          messages?: Array<{ seq: number }>;
          message?: { seq: number };
        };
        if (frame.type === "recent_messages") {
          for (const message of frame.messages ?? []) this.record(message.seq);
          snapshot = true;
          resolve();
        } else if (frame.type === "chat_message" && frame.message) {
          this.record(frame.message.seq);
        } else if (frame.type === "error") {
          this.oddities.push(String(data));
        }
      });
      socket.once("error", (err) => {
        if (!snapshot) reject(err);
      });
      socket.once("close", (code) => {
        if (!snapshot) reject(new Error(`closed ${code} before the snapshot`));
        if (this.socket !== socket) return;
        this.closeCodes.push(code);
        if (!this.stopped && this.pick) this.reconnecting ??= this.resume();
      });
      this.socket = socket;
    });
  }

  private record(seq: number): void {
    this.seqs.push(seq);
    this.lastAt = Date.now();
  }

  /** Another process, `after_seq` = what we have; retried until the deadline. */
  private async resume(): Promise<void> {
    const deadline = Date.now() + RECONNECT_DEADLINE_MS;
    const dead = this.server;
    try {
      while (!this.stopped && Date.now() < deadline) {
        const next = this.pick?.(dead);
        if (next) {
          try {
            await this.connect(next, this.last);
            this.server = next;
            this.reconnects++;
            return;
          } catch {
            // That one is not up either: try again shortly.
          }
        }
        await sleep(100);
      }
      this.oddities.push("gave up reconnecting");
    } finally {
      this.reconnecting = undefined;
    }
  }
}

/** Problems with a recorded sequence: anything but exactly 1..last, each once, in order. */
export function sequenceProblems(seqs: number[], last: number): string | undefined {
  if (seqs.length === last && seqs.every((seq, i) => seq === i + 1)) return undefined;
  const seen = new Set<number>();
  const duplicates: number[] = [];
  const outOfOrder: number[] = [];
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i] ?? 0;
    if (seen.has(seq)) duplicates.push(seq);
    seen.add(seq);
    if (i > 0 && seq <= (seqs[i - 1] ?? 0)) outOfOrder.push(seq);
  }
  const missing: number[] = [];
  for (let seq = 1; seq <= last; seq++) if (!seen.has(seq)) missing.push(seq);
  const head = (list: number[]) => `${list.length} ${JSON.stringify(list.slice(0, 10))}`;
  return `missing ${head(missing)}, duplicates ${head(duplicates)}, out of order ${head(outOfOrder)}`;
}
