import type { Logger } from "pino";
import type { Message, Platform } from "../domain/types.js";
import { NotFoundError, PlatformError } from "../errors.js";
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
export class OutboxWorker {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private wakeRequested = false;
  private wakeSleeper: (() => void) | undefined;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly maxIdleMs: number;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.concurrency = options.concurrency ?? 8;
    this.maxIdleMs = options.maxIdleMs ?? 5_000;
  }

  /** The first pass claims everything due, which resumes the sends of a previous run. */
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

  /** Stops claiming and waits for the sends in flight to be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.loop = undefined;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { outbox, log } = this.options;
    while (this.running) {
      this.wakeRequested = false;
      const free = this.concurrency - this.inFlight.size;
      if (free > 0) {
        let jobs: OutboxJob[];
        try {
          jobs = await outbox.claimDue(Date.now(), free, this.leaseMs);
        } catch (err) {
          log.error({ error: describeError(err) }, "claiming outbox jobs failed");
          await this.sleep(this.maxIdleMs);
          continue;
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
      const next = await this.options.outbox.nextDueAt();
      if (next === undefined) return this.maxIdleMs;
      // A due job we could not claim is leased elsewhere: do not spin on it.
      return Math.min(this.maxIdleMs, Math.max(next - Date.now(), 25));
    } catch (err) {
      this.options.log.error({ error: describeError(err) }, "reading the outbox failed");
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

  private launch(job: OutboxJob): void {
    const task = this.deliver(job)
      .catch((err: unknown) => {
        // Only the store can fail here; the lease expires and the job is tried again.
        this.options.log.error(
          { job: job.id, message: job.messageId, error: describeError(err) },
          "recording a delivery failed",
        );
      })
      .finally(() => {
        this.inFlight.delete(task);
        this.wake();
      });
    this.inFlight.add(task);
  }

  private async deliver(job: OutboxJob): Promise<void> {
    const { outbox, channels, log } = this.options;
    const attempt = job.attempts + 1;
    const channel = await channels.findById(job.channelId);
    if (!channel) {
      await this.options.notify(await outbox.markFailed(job.id, "The channel was removed"));
      return;
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
        return;
      }
      const reason = failure.retryable
        ? `${failure.message} (gave up after ${attempt} attempts)`
        : failure.message;
      log.warn(context, "send failed for good");
      this.options.onAttempt?.(channel.platform, "failed");
      await this.options.notify(await outbox.markFailed(job.id, reason));
      return;
    }
    // Recorded before anything else happens, so the job is never handed out again. A failed
    // write is tried again at once: if it stayed unrecorded, the lease would run out and the
    // customer would get the message twice.
    this.options.onAttempt?.(channel.platform, "sent");
    const message = await persist(() => outbox.markSent(job.id));
    log.debug({ job: job.id, message: job.messageId, attempt }, "sent");
    await this.options.notify(message);
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
