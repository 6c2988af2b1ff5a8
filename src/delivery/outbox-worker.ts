import type { Logger } from "pino";
import type { Message, Platform } from "../domain/types.js";
import { NotFoundError, PlatformError } from "../errors.js";
import type { JobEnd } from "../jobs/leased-job-runner.js";
import { LeasedJobWorker } from "../jobs/leased-job-worker.js";
import { storeFailureLogs } from "../jobs/store-failure-logs.js";
import { describeError } from "../platforms/redact.js";
import type { ChannelStore, OutboxJob, OutboxStore } from "../store/store.js";
import { retryDelayMs } from "./backoff.js";
import type { SendToPlatform } from "./platform-sender.js";

export interface OutboxWorkerOptions {
  outbox: OutboxStore;
  channels: ChannelStore;
  send: SendToPlatform;
  /** Pushes a delivery status change to the conversation's sockets. */
  notify: (message: Message) => Promise<void>;
  log: Logger;
  maxAttempts: number;
  baseDelayMs: number;
  /**
   * How long a claimed job stays ours. It must exceed the platform request timeout, so a job is
   * only taken again (by any process) once the send that held it can no longer succeed.
   */
  leaseMs?: number;
  /** Sends in flight at once. */
  concurrency?: number;
  /** Longest sleep without a wake; jobs queued by other processes are found this late. */
  maxIdleMs?: number;
  random?: () => number;
  /** Told of every send attempt's result (the metrics' `fiko_outbox_sends_total`). */
  onAttempt?: (platform: Platform, result: "sent" | "retry" | "failed") => void;
}

export const DEFAULT_LEASE_MS = 60_000;

/**
 * Sends outbox jobs to the platforms. Durable by construction: the job is a row written with the
 * message, claimed under a lease, and finished (`sent`, retry later, `failed`) right after the
 * platform answers; a crashed process's jobs are claimed again when their lease runs out.
 */
export class OutboxWorker extends LeasedJobWorker<OutboxJob> {
  constructor(private readonly options: OutboxWorkerOptions) {
    super({
      queue: options.outbox,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      concurrency: options.concurrency ?? 8,
      maxIdleMs: options.maxIdleMs,
      // The store is likely down: do not ask it for the next due time as well.
      fullSleepAfterClaimError: true,
      // Only the store can fail there; the lease expires and the job is tried again.
      ...storeFailureLogs(options.log, (job) => ({ job: job.id, message: job.messageId }), {
        record: "recording a delivery failed",
        claim: "claiming outbox jobs failed",
        nextDue: "reading the outbox failed",
      }),
    });
  }

  /** Sends one job and records its outcome: sent, retry later, or failed (the row is gone). */
  protected async runJob(job: OutboxJob): Promise<JobEnd> {
    const { outbox, channels, log } = this.options;
    const attempt = job.attempts + 1;
    const channel = await channels.findById(job.channelId);
    if (!channel) {
      await this.options.notify(
        await outbox.markFailed(job.id, "The channel was removed", job.attachments),
      );
      return "gone";
    }
    try {
      await this.options.send(channel, job);
    } catch (err) {
      const failure =
        err instanceof PlatformError
          ? err
          : new PlatformError("Unexpected error while sending", true);
      const context = { job: job.id, message: job.messageId, attempt, error: failure.message };
      if (!(err instanceof PlatformError)) {
        log.error(
          {
            ...context,
            cause: describeError(
              err,
              channel.credentials.botToken,
              channel.credentials.accessToken,
            ),
          },
          "send crashed",
        );
      }
      if (failure.retryable && attempt < this.options.maxAttempts) {
        const delay = retryDelayMs(
          attempt,
          this.options.baseDelayMs,
          failure.retryAfterSeconds,
          this.options.random,
        );
        log.info({ ...context, retryInMs: delay }, "send failed, will retry");
        this.options.onAttempt?.(channel.platform, "retry");
        await outbox.markRetry(job.id, Date.now() + delay, failure.message);
        return undefined;
      }
      const reason = failure.retryable
        ? `${failure.message} (gave up after ${attempt} attempts)`
        : failure.message;
      log.warn(context, "send failed for good");
      this.options.onAttempt?.(channel.platform, "failed");
      await this.options.notify(await outbox.markFailed(job.id, reason, job.attachments));
      return "gone";
    }
    // Recorded before anything else happens, so the job is never handed out again. A failed
    // write is tried again at once: if it stayed unrecorded, the lease would run out and the
    // customer would get the message twice.
    this.options.onAttempt?.(channel.platform, "sent");
    const message = await persist(() => outbox.markSent(job.id, job.attachments));
    log.debug({ job: job.id, message: job.messageId, attempt }, "sent");
    await this.options.notify(message);
    return "gone";
  }
}

const PERSIST_PAUSES_MS = [50, 250, 1000];

async function persist<T>(write: () => Promise<T>): Promise<T> {
  for (const pause of PERSIST_PAUSES_MS) {
    try {
      return await write();
    } catch (err) {
      if (err instanceof NotFoundError) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
  return write();
}
