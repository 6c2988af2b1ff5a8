/** A store's job table as the runner sees it. */
export interface LeasedQueue<J> {
  /** Claims up to `limit` jobs due at `now`, each leased for `leaseMs`. */
  claimDue(now: number, limit: number, leaseMs: number): Promise<J[]>;
  /** The earliest time a job can be claimed, or undefined when the queue is empty. */
  nextDueAt(): Promise<number | undefined>;
  /**
   * Optional: claims by id the jobs this process queued since it last asked, without a search.
   * Undefined when it knows of none or cannot vouch that it knows them all.
   */
  claimQueued?(now: number, limit: number, leaseMs: number): Promise<J[] | undefined>;
}

/**
 * How a job ended, as far as the queue goes: `gone` when its row left the table (nothing about
 * it can come due again, so there is nothing to search for); otherwise the runner searches.
 */
export type JobEnd = "gone" | undefined;

/**
 * What a worker gives the runner. The store does the leasing (a claimed row is
 * ours until its lease runs out, then anyone's again), so the runner only decides when to claim
 * and how many jobs run at once; what a job does and how it is retried stay with its worker.
 */
export interface LeasedJobRunnerOptions<J> {
  queue: LeasedQueue<J>;
  /** How long a claimed job stays ours: longer than the job may take. */
  leaseMs: number;
  /**
   * Does one job. A rejection means its outcome could not be recorded. Resolving to a `JobEnd`
   * of `gone` spares the search; anything else makes the runner search.
   */
  run(job: J): Promise<unknown>;
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
 * The claim loop shared by the durable workers: claim due jobs into the free slots, run them
 * concurrently, and sleep until woken or until the next job is due.
 *
 * The table is searched (due rows, then the next due time) only when something may be there
 * that this process was not told of: at start, when the planned time comes, after a wake from
 * outside that the queue has no note for, after a job that did not leave the table (a retry, a
 * failure to record), and after a batch that filled every slot. A wake for jobs the queue noted
 * claims those by id; a job that left the table only frees its slot. When the planned time
 * comes with nothing known, the next due time is asked first, so an idle worker reads one row
 * per wake-up and opens no transaction.
 */
export class LeasedJobRunner<J> {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private wakeRequested = false;
  private wakeSleeper: (() => void) | undefined;
  /** Woken from outside since the last look (something was queued). */
  private woken = false;
  /** Something may be due that no note and no planned time covers. */
  private searchWanted = true;
  /** When the table must be looked at again even without a wake (the next due time, capped). */
  private plannedAt = 0;
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
    this.searchWanted = true;
    this.loop = this.run();
  }

  /** Something was queued: look now instead of at the next planned time. */
  wake(): void {
    this.woken = true;
    this.rouse();
  }

  /** Stops claiming and waits for the jobs in flight to end. */
  async stop(): Promise<void> {
    this.running = false;
    this.rouse();
    await this.loop;
    this.loop = undefined;
    this.options.onStopping?.();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private rouse(): void {
    this.wakeRequested = true;
    this.wakeSleeper?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.wakeRequested = false;
      const free = this.concurrency - this.inFlight.size;
      // A full batch suggests more are waiting.
      if (free > 0 && (await this.claim(free)) === free) continue;
      if (!this.running) break;
      const idle = this.inFlight.size >= this.concurrency;
      await this.sleep(idle ? this.maxIdleMs : Math.max(0, this.plannedAt - Date.now()));
    }
  }

  /** Claims into `free` slots; returns how many jobs were launched. */
  private async claim(free: number): Promise<number> {
    const now = Date.now();
    const woken = this.woken;
    this.woken = false;
    const { queue, leaseMs } = this.options;
    const planned = now >= this.plannedAt;
    if (!this.searchWanted && !planned && queue.claimQueued) {
      let jobs: J[] | undefined;
      try {
        jobs = await queue.claimQueued(now, free, leaseMs);
      } catch (err) {
        this.options.onClaimError(err);
        // The rows are still there: the search finds them, after the pause a failed claim gets.
        this.searchWanted = true;
        const pause = this.options.fullSleepAfterClaimError ? this.maxIdleMs : this.minSleepMs;
        this.plannedAt = Date.now() + pause;
        return 0;
      }
      if (jobs !== undefined) {
        for (const job of jobs) this.launch(job);
        return jobs.length;
      }
      // A freed slot and no note: nothing new to look for until the planned time.
      if (!woken && !this.searchWanted) return 0;
    }
    if (!this.searchWanted && !woken && planned && !(await this.dueBy(now))) return 0;
    return this.search(now, free);
  }

  /** Whether a job is claimable at `now`; otherwise plans the next look at its due time. */
  private async dueBy(now: number): Promise<boolean> {
    try {
      const next = await this.options.queue.nextDueAt();
      if (next !== undefined && next <= now) return true;
      this.plannedAt = now + this.sleepFor(next);
      return false;
    } catch (err) {
      this.options.onNextDueError?.(err);
      // Unknown: the search asks the store again and plans from what it says.
      return true;
    }
  }

  private async search(now: number, free: number): Promise<number> {
    this.searchWanted = false;
    const { queue, leaseMs } = this.options;
    let jobs: J[] = [];
    try {
      jobs = await queue.claimDue(now, free, leaseMs);
    } catch (err) {
      this.options.onClaimError(err);
      if (this.options.fullSleepAfterClaimError) {
        this.plannedAt = Date.now() + this.maxIdleMs;
        return 0;
      }
    }
    for (const job of jobs) this.launch(job);
    if (jobs.length === free) {
      // More may be due than there were slots: look again as soon as one frees.
      this.searchWanted = true;
      return jobs.length;
    }
    this.plannedAt = Date.now() + (await this.idleTime());
    return jobs.length;
  }

  private async idleTime(): Promise<number> {
    if (this.inFlight.size >= this.concurrency) return this.maxIdleMs;
    try {
      return this.sleepFor(await this.options.queue.nextDueAt());
    } catch (err) {
      this.options.onNextDueError?.(err);
      return this.maxIdleMs;
    }
  }

  private sleepFor(next: number | undefined): number {
    if (next === undefined) return this.maxIdleMs;
    return Math.min(this.maxIdleMs, Math.max(next - Date.now(), this.minSleepMs));
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
      .then(
        (end) => {
          // A job still in the table (a retry) may come due again: its time is in the table.
          if (end !== "gone") this.searchWanted = true;
        },
        (err: unknown) => {
          this.searchWanted = true;
          this.options.onRunError(job, err);
        },
      )
      .finally(() => {
        this.inFlight.delete(task);
        this.rouse();
      });
    this.inFlight.add(task);
  }
}
