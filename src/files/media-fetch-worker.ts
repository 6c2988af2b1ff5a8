import type { Logger } from "pino";
import { retryDelayMs } from "../delivery/backoff.js";
import { PlatformError } from "../errors.js";
import { describeError } from "../platforms/redact.js";
import type { AttachmentStore, MediaJob } from "../store/store.js";
import type { MediaFetcher } from "./media-fetcher.js";

export interface MediaFetchWorkerOptions {
  attachments: AttachmentStore;
  fetcher: MediaFetcher;
  log: Logger;
  maxAttempts: number;
  baseDelayMs: number;
  /** How long a claimed download stays ours; longer than a download may take. */
  leaseMs?: number;
  concurrency?: number;
  /** Longest sleep without a wake: downloads queued by other processes are found this late. */
  maxIdleMs?: number;
}

/** Downloads may take a while (20 MB from Telegram); the lease outlasts the request timeout. */
export const MEDIA_FETCH_TIMEOUT_MS = 120_000;
const DEFAULT_LEASE_MS = MEDIA_FETCH_TIMEOUT_MS + 60_000;

/**
 * The durable download job: every inbound file is a `media_jobs` row written with its message,
 * claimed under a lease (so any process may take it, and a crashed one's jobs come back), tried
 * again with backoff on network trouble and 5xx, and given up as `unavailable` after
 * `maxAttempts` or on a final refusal.
 */
export class MediaFetchWorker {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private wakeRequested = false;
  private wakeSleeper: (() => void) | undefined;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly maxIdleMs: number;

  constructor(private readonly options: MediaFetchWorkerOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.concurrency = options.concurrency ?? 4;
    this.maxIdleMs = options.maxIdleMs ?? 5_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.wakeRequested = true;
    this.wakeSleeper?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.loop = undefined;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { attachments, log } = this.options;
    while (this.running) {
      this.wakeRequested = false;
      const free = this.concurrency - this.inFlight.size;
      if (free > 0) {
        let jobs: MediaJob[] = [];
        try {
          jobs = await attachments.claimDue(Date.now(), free, this.leaseMs);
        } catch (err) {
          log.error({ error: describeError(err) }, "claiming media downloads failed");
        }
        for (const job of jobs) this.launch(job);
        if (jobs.length === free) continue;
      }
      if (!this.running) break;
      await this.sleep(await this.idleTime());
    }
  }

  private async idleTime(): Promise<number> {
    if (this.inFlight.size >= this.concurrency) return this.maxIdleMs;
    try {
      const next = await this.options.attachments.nextDueAt();
      if (next === undefined) return this.maxIdleMs;
      return Math.min(this.maxIdleMs, Math.max(next - Date.now(), 25));
    } catch {
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

  private launch(job: MediaJob): void {
    const task = this.download(job)
      .catch((err: unknown) => {
        // Only the store can fail here; the lease runs out and the job is tried again.
        this.options.log.error(
          { job: job.id, attachment: job.attachmentId, error: describeError(err) },
          "recording a media download failed",
        );
      })
      .finally(() => {
        this.inFlight.delete(task);
        this.wake();
      });
    this.inFlight.add(task);
  }

  private async download(job: MediaJob): Promise<void> {
    const { attachments, fetcher, log } = this.options;
    const record = await attachments.findById(job.attachmentId);
    // Gone with its message, or fetched on demand meanwhile (which ended the job).
    if (record === undefined || record.attachment.state !== "pending") return;
    const attempt = job.attempts + 1;
    try {
      await fetcher.fetch(record);
    } catch (err) {
      const reason = err instanceof PlatformError ? err.message : describeError(err);
      if (attempt >= this.options.maxAttempts) {
        await fetcher.giveUp(job.attachmentId, `${reason} (gave up after ${attempt} attempts)`);
        return;
      }
      const retryAfter = err instanceof PlatformError ? err.retryAfterSeconds : undefined;
      const delay = retryDelayMs(attempt, this.options.baseDelayMs, retryAfter);
      log.info(
        { attachment: job.attachmentId, attempt, reason, retryInMs: delay },
        "media download failed, will retry",
      );
      await attachments.markRetry(job.id, Date.now() + delay, reason);
    }
  }
}
