import type { Logger } from "pino";
import { retryDelayMs } from "../delivery/backoff.js";
import { PlatformError } from "../errors.js";
import type { JobEnd } from "../jobs/leased-job-runner.js";
import { LeasedJobWorker } from "../jobs/leased-job-worker.js";
import { storeFailureLogs } from "../jobs/store-failure-logs.js";
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
export class MediaFetchWorker extends LeasedJobWorker<MediaJob> {
  constructor(private readonly options: MediaFetchWorkerOptions) {
    super({
      queue: options.attachments,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      concurrency: options.concurrency,
      maxIdleMs: options.maxIdleMs,
      // Only the store can fail there; the lease runs out and the job is tried again.
      ...storeFailureLogs(options.log, (job) => ({ job: job.id, attachment: job.attachmentId }), {
        record: "recording a media download failed",
        claim: "claiming media downloads failed",
      }),
    });
  }

  /**
   * Downloads one file, or schedules its retry, or gives it up. Every end but a retry removes
   * the job's row (storing or giving up the file deletes it), so only a retry needs a search.
   */
  protected async runJob(job: MediaJob): Promise<JobEnd> {
    const { attachments, fetcher, log } = this.options;
    const record = await attachments.findById(job.attachmentId);
    // Gone with its message, or fetched on demand meanwhile (which ended the job).
    if (record === undefined || record.attachment.state !== "pending") return "gone";
    const attempt = job.attempts + 1;
    try {
      await fetcher.fetch(record);
      return "gone";
    } catch (err) {
      const reason = err instanceof PlatformError ? err.message : describeError(err);
      if (attempt >= this.options.maxAttempts) {
        await fetcher.giveUp(job.attachmentId, `${reason} (gave up after ${attempt} attempts)`);
        return "gone";
      }
      const retryAfter = err instanceof PlatformError ? err.retryAfterSeconds : undefined;
      const delay = retryDelayMs(attempt, this.options.baseDelayMs, retryAfter);
      log.info(
        { attachment: job.attachmentId, attempt, reason, retryInMs: delay },
        "media download failed, will retry",
      );
      await attachments.markRetry(job.id, Date.now() + delay, reason);
      // Still in the table, due again later: the runner searches.
      return undefined;
    }
  }
}
