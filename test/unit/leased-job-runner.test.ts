import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import {
  type JobEnd,
  LeasedJobRunner,
  type LeasedQueue,
} from "../../src/jobs/leased-job-runner.js";

// When the claim loop searches the table and when it claims by id: counted calls on a fake
// queue, with idle sleeps long enough that no timer ever fires during a test.

interface Job {
  id: number;
  end: JobEnd;
}

class FakeQueue implements LeasedQueue<Job> {
  calls = { claimDue: 0, nextDueAt: 0, claimQueued: 0 };
  due: Job[] = [];
  notes: Job[] | undefined;

  async claimDue(_now: number, limit: number): Promise<Job[]> {
    this.calls.claimDue++;
    return this.due.splice(0, limit);
  }

  async nextDueAt(): Promise<number | undefined> {
    this.calls.nextDueAt++;
    return undefined;
  }

  async claimQueued(_now: number, limit: number): Promise<Job[] | undefined> {
    this.calls.claimQueued++;
    const notes = this.notes;
    if (notes === undefined) return undefined;
    const taken = notes.splice(0, limit);
    if (notes.length === 0) this.notes = undefined;
    return taken;
  }
}

function runnerOver(queue: FakeQueue) {
  const ran: number[] = [];
  const runner = new LeasedJobRunner<Job>({
    queue,
    leaseMs: 60_000,
    maxIdleMs: 60_000,
    concurrency: 2,
    run: async (job) => {
      ran.push(job.id);
      return job.end;
    },
    onRunError: (_job, err) => assert.fail(String(err)),
    onClaimError: (err) => assert.fail(String(err)),
  });
  runners.push(runner);
  return { runner, ran };
}

/** Lets the loop run until `done` holds (it only ever waits on resolved promises here). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(done(), "the loop did not get there");
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

const runners: LeasedJobRunner<Job>[] = [];

describe("leased job runner", () => {
  // A failed assertion must not leave a loop sleeping (its timer would hold the process).
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  it("searches at start, claims noted jobs by id, and searches again only after a retry", async () => {
    const queue = new FakeQueue();
    queue.due = [{ id: 1, end: "gone" }];
    const { runner, ran } = runnerOver(queue);
    runner.start();
    await until(() => ran.length === 1 && runner.busy === 0);
    // The start: one search, the next due time for the sleep; the job's end adds nothing.
    assert.deepEqual(queue.calls, { claimDue: 1, nextDueAt: 1, claimQueued: 1 });

    queue.notes = [{ id: 2, end: "gone" }];
    runner.wake();
    await until(() => ran.length === 2 && runner.busy === 0);
    assert.deepEqual(queue.calls, { claimDue: 1, nextDueAt: 1, claimQueued: 3 });

    // A job that stays in the table (a retry): its next due time is searched for.
    queue.notes = [{ id: 3, end: undefined }];
    runner.wake();
    await until(() => ran.length === 3 && queue.calls.claimDue === 2);
    assert.deepEqual(queue.calls, { claimDue: 2, nextDueAt: 2, claimQueued: 4 });

    // A wake the queue has no note for (queued elsewhere, notes dropped): a search.
    queue.due = [{ id: 4, end: "gone" }];
    runner.wake();
    await until(() => ran.length === 4 && runner.busy === 0);
    assert.deepEqual(queue.calls, { claimDue: 3, nextDueAt: 3, claimQueued: 6 });
    await runner.stop();
    assert.deepEqual(ran, [1, 2, 3, 4]);
  });

  it("searches again when a batch filled every slot, once a slot is free", async () => {
    const queue = new FakeQueue();
    queue.due = [1, 2, 3].map((id) => ({ id, end: "gone" as const }));
    const { runner, ran } = runnerOver(queue);
    runner.start();
    await until(() => ran.length === 3 && runner.busy === 0);
    // Two slots: a full batch of two, then, once one ended, a search that finds the third.
    assert.equal(queue.calls.claimDue, 2);
    await runner.stop();
    assert.deepEqual(ran, [1, 2, 3]);
  });
});
