import { type JobEnd, LeasedJobRunner, type LeasedJobRunnerOptions } from "./leased-job-runner.js";

/**
 * The public face the durable workers share: `start`, `wake` and `stop` drive one
 * LeasedJobRunner; a subclass says what a job does and, if it must, what stopping cancels.
 */
export abstract class LeasedJobWorker<J> {
  protected readonly runner: LeasedJobRunner<J>;

  protected constructor(options: Omit<LeasedJobRunnerOptions<J>, "run" | "onStopping">) {
    // Through methods, not closures over the subclass: its fields exist only after this runs.
    this.runner = new LeasedJobRunner<J>({
      ...options,
      run: (job) => this.runJob(job),
      onStopping: () => this.onStopping(),
    });
  }

  /**
   * Does one claimed job; a rejection means its outcome could not be recorded. Resolves `gone`
   * when the job's row left the table, which spares the runner a search of it.
   */
  protected abstract runJob(job: J): Promise<JobEnd> | Promise<void>;

  /** Called once claiming has stopped, before the jobs in flight are waited for. */
  protected onStopping(): void {}

  /** The first pass claims everything due, which resumes the jobs of a previous run. */
  start(): void {
    this.runner.start();
  }

  /** Something was queued here: look now instead of at the next planned time. */
  wake(): void {
    this.runner.wake();
  }

  /** Stops claiming and waits for the jobs in flight to be recorded. */
  stop(): Promise<void> {
    return this.runner.stop();
  }
}
