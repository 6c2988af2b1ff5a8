/** How a socket waits between connection attempts. */
export interface ReconnectOptions {
  /** Upper bound of the first wait, in ms; each failed attempt doubles it. */
  baseDelayMs: number;
  /** No wait is longer than this, however many attempts failed. */
  maxDelayMs: number;
  /** A connection that stayed open this long counts as stable: the next wait starts small again. */
  stableAfterMs: number;
}

/** The defaults of {@link ReconnectOptions}. */
export const DEFAULT_RECONNECT: ReconnectOptions = {
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  stableAfterMs: 10_000,
};

/**
 * Exponential backoff with full jitter: the n-th wait in a row is uniform in
 * `[0, min(maxDelayMs, baseDelayMs * 2^n))`, so many clients dropped together by a restart do
 * not all come back at the same moment. `random` and `now` are injectable for tests.
 */
export class ReconnectPolicy {
  private failures = 0;
  private openedAt: number | null = null;
  readonly options: ReconnectOptions;

  constructor(
    options: Partial<ReconnectOptions> = {},
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_RECONNECT, ...options };
  }

  /** Attempts made since the last stable connection. */
  get attempts(): number {
    return this.failures;
  }

  /** The wait before the next attempt, in ms; counts the attempt. */
  nextDelay(): number {
    const { baseDelayMs, maxDelayMs } = this.options;
    // 2^n stops growing once it passes the cap, so the exponent never overflows.
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.floor(this.random() * ceiling);
  }

  /** The socket is open. */
  opened(): void {
    this.openedAt = this.now();
  }

  /** The socket closed; if it had been open long enough, the backoff starts over. */
  closed(): void {
    if (this.openedAt !== null && this.now() - this.openedAt >= this.options.stableAfterMs) {
      this.failures = 0;
    }
    this.openedAt = null;
  }

  /** Starts over (after a sign-in, or a close that says nothing about the server's health). */
  reset(): void {
    this.failures = 0;
    this.openedAt = null;
  }
}
