/** A store's job table as the runner sees it. */
export interface LeasedQueue<J> {
  /** Claims up to `limit` jobs due at `now`, each leased for `leaseMs`. */
  claimDue(now: number, limit: number, leaseMs: number): Promise<J[]>;
  /** The earliest time a job can be claimed, or undefined when the queue is empty. */
  nextDueAt(): Promise<number | undefined>;
}

/**
 * What a worker gives the runner. The store does the leasing (a claimed row is
 * ours until its lease runs out, then anyone's again), so the runner only decides when to claim
 * and how many jobs run at once; what a job does and how it is retried stay with its worker.
 */
export interface LeasedJobRunnerOptions<J> {
  queue: LeasedQueue<J>;
  /** How long a claimed job stays ours: longer than the job may take. */
  leaseMs: number;
  /** Does one job. A rejection means its outcome could not be recorded. */
  run(job: J): Promise<void>;
  /** `run` rejected: only the store can fail there; the lease runs out and the job comes back. */
  onRunError(job: J, err: unknown): void;
  onClaimError(err: unknown): void;
  /** Without it a failed read of the next due time is silent (the full idle sleep follows). */
  onNextDueError?(err: unknown): void;
  /** Jobs in flight at once (4). */
  concurrency?: number | undefined;
  /** Longest sleep without a wake (5 s): jobs queued by other processes are found this late. */
  maxIdleMs?: number | undefined;
  /** Shortest sleep before a due job (25 ms): one we could not claim is leased elsewhere. */
  minSleepMs?: number;
  /**
   * After a failed claim, sleep `maxIdleMs` at once instead of asking the store for the next due
   * time (a store that cannot claim is unlikely to answer that either).
   */
  fullSleepAfterClaimError?: boolean;
  /** Called when claiming has stopped, before waiting for the jobs in flight (to cancel them). */
  onStopping?(): void;
}

/**
 * The claim loop shared by the durable workers: claim a batch of due jobs into the free slots,
 * run them concurrently, and sleep until woken or until the next job is due. A finished job
 * wakes the loop, since its slot is free again.
 */
export class LeasedJobRunner<J> {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private wakeRequested = false;
  private wakeSleeper: (() => void) | undefined;
  private readonly concurrency: number;
  private readonly maxIdleMs: number;
  private readonly minSleepMs: number;

  constructor(private readonly options: LeasedJobRunnerOptions<J>) {
    this.concurrency = options.concurrency ?? 4;
    this.maxIdleMs = options.maxIdleMs ?? 5_000;
    this.minSleepMs = options.minSleepMs ?? 25;
  }

  /** Jobs being worked on right now in this process. */
  get busy(): number {
    return this.inFlight.size;
  }

  /** The first pass claims everything due, which resumes the jobs of a previous run. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was queued: look now instead of at the next planned time. */
  wake(): void {
    this.wakeRequested = true;
    this.wakeSleeper?.();
  }

  /** Stops claiming and waits for the jobs in flight to end. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.loop = undefined;
    this.options.onStopping?.();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { queue, leaseMs } = this.options;
    while (this.running) {
      this.wakeRequested = false;
      const free = this.concurrency - this.inFlight.size;
      if (free > 0) {
        let jobs: J[] = [];
        try {
          jobs = await queue.claimDue(Date.now(), free, leaseMs);
        } catch (err) {
          this.options.onClaimError(err);
          if (this.options.fullSleepAfterClaimError) {
            await this.sleep(this.maxIdleMs);
            continue;
          }
        }
        for (const job of jobs) this.launch(job);
        // A full batch suggests more are due.
        if (jobs.length === free) continue;
      }
      if (!this.running) break;
      await this.sleep(await this.idleTime());
    }
  }

  private async idleTime(): Promise<number> {
    if (this.inFlight.size >= this.concurrency) return this.maxIdleMs;
    try {
      const next = await this.options.queue.nextDueAt();
      if (next === undefined) return this.maxIdleMs;
      return Math.min(this.maxIdleMs, Math.max(next - Date.now(), this.minSleepMs));
    } catch (err) {
      this.options.onNextDueError?.(err);
      return this.maxIdleMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeSleeper === done) this.wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleeper = done;
    });
  }

  private launch(job: J): void {
    const task = this.options
      .run(job)
      .catch((err: unknown) => this.options.onRunError(job, err))
      .finally(() => {
        this.inFlight.delete(task);
        this.wake();
      });
    this.inFlight.add(task);
  }
}
