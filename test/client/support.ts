import WebSocket from "ws";
import { FikoClient, type FikoClientOptions } from "../../client/index.js";
import type { TestServer } from "../helpers/server.js";

export const PASSWORD = "correct horse battery";

/** An SDK client on Node with `ws`, quick reconnects so tests do not wait on backoff. */
export function sdkClient(
  server: { baseUrl: string },
  options: Partial<FikoClientOptions> = {},
): FikoClient {
  return new FikoClient({
    baseUrl: server.baseUrl,
    WebSocket,
    reconnect: { baseDelayMs: 50, maxDelayMs: 400, stableAfterMs: 1_000 },
    ...options,
  });
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
