import assert from "node:assert/strict";
import { it } from "node:test";
import { GroupCommit } from "../../src/store/sql/group-commit.js";

// Group commit: a lone write runs at once; writes arriving meanwhile are stored together; a
// batch that fails is stored again one write at a time.

interface Log {
  ones: string[];
  batches: string[][];
}

function recorder(failing: Set<string>, concurrency = 1, maxBatch = 10, gatherRound = false) {
  const log: Log = { ones: [], batches: [] };
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const group = new GroupCommit<string, string>({
    runOne: async (item) => {
      log.ones.push(item);
      await settle();
      if (failing.has(item)) throw new Error(`refused ${item}`);
      return `stored ${item}`;
    },
    runBatch: async (items) => {
      log.batches.push(items);
      await settle();
      if (items.some((item) => failing.has(item))) throw new Error("batch rolled back");
      return items.map((item) => ({ status: "fulfilled", value: `stored ${item}` }));
    },
    maxBatch,
    concurrency,
    gatherRound,
  });
  return { group, log };
}

it("runs a lone write at once and stores the writes that arrived meanwhile as one batch", async () => {
  const { group, log } = recorder(new Set());
  const results = await Promise.all(["a", "b", "c", "d"].map((item) => group.submit(item)));
  assert.deepEqual(results, ["stored a", "stored b", "stored c", "stored d"]);
  assert.deepEqual(log, { ones: ["a"], batches: [["b", "c", "d"]] });
});

it("with gatherRound, stores the writes of one round of callbacks together, the first included", async () => {
  const { group, log } = recorder(new Set(), 1, 10, true);
  const first = await Promise.all(["a", "b", "c"].map((item) => group.submit(item)));
  assert.deepEqual(first, ["stored a", "stored b", "stored c"]);
  assert.deepEqual(log, { ones: [], batches: [["a", "b", "c"]] });
  // A lone write is still stored alone, one round later.
  assert.equal(await group.submit("d"), "stored d");
  assert.deepEqual(log, { ones: ["d"], batches: [["a", "b", "c"]] });
});

it("splits a long queue into batches of at most maxBatch, in arrival order", async () => {
  const { group, log } = recorder(new Set(), 1, 2);
  await Promise.all(["a", "b", "c", "d", "e", "f"].map((item) => group.submit(item)));
  assert.deepEqual(log.ones, ["a", "f"]);
  assert.deepEqual(log.batches, [
    ["b", "c"],
    ["d", "e"],
  ]);
});

it("stores a failed batch one write at a time: only the bad write fails", async () => {
  const { group, log } = recorder(new Set(["c"]));
  const outcomes = await Promise.allSettled(["a", "b", "c", "d"].map((item) => group.submit(item)));
  assert.deepEqual(
    outcomes.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message)),
    ["stored a", "stored b", "refused c", "stored d"],
  );
  assert.deepEqual(log, { ones: ["a", "b", "c", "d"], batches: [["b", "c", "d"]] });
});

it("keeps up to `concurrency` transactions in flight", async () => {
  const { group, log } = recorder(new Set(), 2);
  await Promise.all(["a", "b", "c", "d", "e"].map((item) => group.submit(item)));
  assert.deepEqual(log.ones, ["a", "b"]);
  assert.deepEqual(log.batches, [["c", "d", "e"]]);
});

it("passes a batch's own per-write outcomes on, without storing any write again", async () => {
  const log: string[][] = [];
  const group = new GroupCommit<string, string>({
    runOne: async (item) => {
      await new Promise((resolve) => setImmediate(resolve));
      return `alone ${item}`;
    },
    // Stores what it can and reports the rest: nothing is rolled back, so nothing is retried.
    runBatch: async (items) => {
      log.push(items);
      return items.map(
        (item): PromiseSettledResult<string> =>
          item === "c"
            ? { status: "rejected", reason: new Error(`refused ${item}`) }
            : { status: "fulfilled", value: `batched ${item}` },
      );
    },
    maxBatch: 10,
    concurrency: 1,
  });
  const outcomes = await Promise.allSettled(["a", "b", "c", "d"].map((item) => group.submit(item)));
  assert.deepEqual(
    outcomes.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message)),
    ["alone a", "batched b", "refused c", "batched d"],
  );
  assert.deepEqual(log, [["b", "c", "d"]]);
});
