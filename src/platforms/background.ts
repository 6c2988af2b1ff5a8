import type { Logger } from "pino";
import { describeError } from "./redact.js";

/**
 * Work that must not hold up a webhook answer (profile fetches). Failures are logged, never
 * thrown; `drain` lets shutdown wait for what is still running before the store closes.
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly log: Logger) {}

  /** Starts `task` unless shutting down (the store may be closing: the work is optional). */
  run(label: string, task: () => Promise<void>): void {
    if (this.closed) {
      this.log.debug({ task: label }, "background task skipped: shutting down");
      return;
    }
    const promise = task()
      .catch((err: unknown) => {
        this.log.warn({ task: label, error: describeError(err) }, "background task failed");
      })
      .finally(() => {
        this.running.delete(promise);
      });
    this.running.add(promise);
  }

  /** Refuses new tasks and waits for the running ones. */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
