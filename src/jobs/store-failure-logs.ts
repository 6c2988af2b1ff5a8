import type { Logger } from "pino";
import { describeError } from "../platforms/redact.js";
import type { LeasedJobRunnerOptions } from "./leased-job-runner.js";

type FailureHooks<J> = Pick<
  LeasedJobRunnerOptions<J>,
  "onRunError" | "onClaimError" | "onNextDueError"
>;

/**
 * The runner's store-failure hooks as the platform workers log them: the error described and
 * redacted (a platform's error text may carry a token), with the job's own fields in front.
 * Without a `nextDue` message a failed read of the next due time stays silent.
 */
export function storeFailureLogs<J>(
  log: Logger,
  jobFields: (job: J) => Record<string, unknown>,
  messages: { claim: string; record: string; nextDue?: string },
): FailureHooks<J> {
  const { nextDue } = messages;
  return {
    onRunError: (job, err) =>
      log.error({ ...jobFields(job), error: describeError(err) }, messages.record),
    onClaimError: (err) => log.error({ error: describeError(err) }, messages.claim),
    ...(nextDue !== undefined && {
      onNextDueError: (err: unknown) => log.error({ error: describeError(err) }, nextDue),
    }),
  };
}
