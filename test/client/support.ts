import WebSocket from "ws";
import {
  FikoClient,
  type FikoClientOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from "../../client/index.js";
import { startServer, type TestServer } from "../helpers/server.js";

export const PASSWORD = "correct horse battery";

const clients = new Set<FikoClient>();

/** Closes every client made by `sdkClient` (for `afterEach`: a failed test leaves none open). */
export function closeClients(): void {
  for (const client of clients) client.close();
  clients.clear();
}

/** Rejects when `promise` has not settled within `ms` (an awaited send must not hang a run). */
export function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An SDK client on Node with `ws`, quick reconnects so tests do not wait on backoff. */
export function sdkClient(
  server: { baseUrl: string },
  options: Partial<FikoClientOptions> = {},
): FikoClient {
  const client = new FikoClient({
    baseUrl: server.baseUrl,
    WebSocket,
    reconnect: { baseDelayMs: 50, maxDelayMs: 400, stableAfterMs: 1_000 },
    ...options,
  });
  clients.add(client);
  return client;
}

/** Resolves once `check` holds after a change of `source` (checked at once, then on each). */
export function waitFor<S>(
  source: { getSnapshot(): S; subscribe(listener: () => void): () => void },
  check: (state: S) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<S> {
  return new Promise((resolve, reject) => {
    const first = source.getSnapshot();
    if (check(first)) return resolve(first);
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(source.getSnapshot())}`));
    }, timeoutMs);
    const unsubscribe = source.subscribe(() => {
      const state = source.getSnapshot();
      if (!check(state)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(state);
    });
  });
}

/** Resolves when `predicate` becomes true, polling every few ms (for server-side state). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The seqs a chat shows, for exact-sequence assertions. */
export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

export type { TestServer };

/** Frames a test socket saw, and hooks to lose some of them on purpose. */
export interface SocketTap {
  /** The WebSocket class to give the client. */
  WebSocket: WebSocketConstructor;
  /** Every URL a socket was opened with, in order (token and after_seq included). */
  urls: string[];
  /** Close codes the client's sockets saw, in order. */
  closes: number[];
  /** Every frame the client sent, parsed. */
  sent: Array<{ type: string } & Record<string, unknown>>;
  /** Incoming frames for which this returns true are lost (as if never sent). */
  dropIncoming: (frame: { type: string } & Record<string, unknown>) => boolean;
  /** Outgoing frames for which this returns true are lost; `sent` still records them. */
  dropOutgoing: (frame: { type: string } & Record<string, unknown>) => boolean;
  /** Cuts the client's open sockets (as a network drop would: close code 1006). */
  cut(): void;
}

/** A `ws`-backed WebSocket for the SDK that records traffic and can lose frames. */
export function tappedWebSocket(): SocketTap {
  const open = new Set<WebSocket>();
  const tap: SocketTap = {
    WebSocket: class TappedSocket implements WebSocketLike {
      private readonly inner: WebSocket;
      onopen: WebSocketLike["onopen"] = null;
      onmessage: WebSocketLike["onmessage"] = null;
      onclose: WebSocketLike["onclose"] = null;
      onerror: WebSocketLike["onerror"] = null;

      constructor(url: string) {
        tap.urls.push(url);
        const inner = new WebSocket(url);
        this.inner = inner;
        open.add(inner);
        inner.on("open", () => this.onopen?.({}));
        inner.on("error", (err) => this.onerror?.(err));
        inner.on("close", (code, reason) => {
          open.delete(inner);
          tap.closes.push(code);
          this.onclose?.({ code, reason: reason.toString() });
        });
        inner.on("message", (data, isBinary) => {
          const text = isBinary ? "" : String(data);
          if (text && tap.dropIncoming(JSON.parse(text))) return;
          this.onmessage?.({ data: text });
        });
      }

      send(data: string): void {
        const frame = JSON.parse(data);
        tap.sent.push(frame);
        if (!tap.dropOutgoing(frame)) this.inner.send(data);
      }

      close(code?: number, reason?: string): void {
        this.inner.close(code, reason);
      }
    },
    urls: [],
    closes: [],
    sent: [],
    dropIncoming: () => false,
    dropOutgoing: () => false,
    cut() {
      for (const socket of open) socket.terminate();
    },
  };
  return tap;
}

/** Cuts every socket the server holds (its side of the connection, as a crash of it would). */
export function cutServerSockets(server: TestServer): number {
  const clients = server.server.app.websocketServer.clients;
  for (const socket of clients) socket.terminate();
  return clients.size;
}

/** Stops `server` and starts it again on the same port and SQLite file. */
export async function restartServer(
  server: TestServer & { dataDir: string },
  env: Record<string, string> = {},
): Promise<TestServer & { dataDir: string }> {
  const port = new URL(server.baseUrl).port;
  await server.close({ keepData: true });
  return startServer({ dataDir: server.dataDir, env: { PORT: port, ...env } });
}

/**
 * Records the seqs a chat adds to the end of its list, in order, and every moment its list was
 * not strictly `seq` ascending and contiguous.
 */
export function watchSeqs(chat: {
  getSnapshot(): { messages: Array<{ seq: number }> };
  subscribe(listener: () => void): () => void;
}): { appended: number[]; violations: string[] } {
  const appended: number[] = [];
  const violations: string[] = [];
  let last = 0;
  const check = () => {
    const seqs = chat.getSnapshot().messages.map((m) => m.seq);
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] !== (seqs[i - 1] ?? 0) + 1) violations.push(seqs.join(","));
    }
    for (const seq of seqs) {
      if (seq > last) {
        appended.push(seq);
        last = seq;
      }
    }
  };
  check();
  chat.subscribe(check);
  return { appended, violations };
}
