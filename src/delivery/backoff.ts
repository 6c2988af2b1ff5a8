/** Longest pause between two tries of a send, whatever the attempt count. */
export const MAX_RETRY_DELAY_MS = 10 * 60_000;

/**
 * Pause before the next try: exponential from `baseDelayMs` with "equal jitter" (half fixed,
 * half random) so that sends failing together do not retry together. A platform's own
 * `retryAfterSeconds` (Telegram `retry_after`, HTTP `Retry-After`) is a floor we never undercut.
 */
export function retryDelayMs(
  attempt: number,
  baseDelayMs: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(MAX_RETRY_DELAY_MS, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(exponential / 2 + (random() * exponential) / 2);
  const floor = retryAfterSeconds && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : 0;
  return Math.max(jittered, floor);
}
