import type { Logger } from "pino";
import { describeError } from "./redact.js";

/**
 * Work that must not hold up a webhook answer (profile fetches). Failures are logged, never
 * thrown; `drain` lets shutdown wait for what is still running before the store closes.
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  run(label: string, task: () => Promise<void>): void {
    const promise = task()
      .catch((err: unknown) => {
        this.log.warn({ task: label, error: describeError(err) }, "background task failed");
      })
      .finally(() => {
        this.running.delete(promise);
      });
    this.running.add(promise);
  }

  get size(): number {
    return this.running.size;
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
