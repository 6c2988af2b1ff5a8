import assert from "node:assert/strict";
import fc from "fast-check";
import type { TestServer } from "../helpers/server.js";

// Property runs against the real server: bounded and seeded in CI, longer by hand
// (`FUZZ_RUNS=5000 npm run test:one test/fuzz/…`). A failure names the seed and the shrunk
// input; `FUZZ_SEED=<seed>` replays it.

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SCALE = Number(process.env.FUZZ_RUNS ?? 0);

/** Runs for one property: `ciRuns` by default, FUZZ_RUNS when set (a soak). */
export const runs = (ciRuns: number): number => (SCALE > 0 ? SCALE : ciRuns);

/** `fc.assert` with the suite's seed; the seed is in the failure message and printed after. */
export async function check<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  numRuns: number,
): Promise<void> {
  let ran = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        ran++;
        await predicate(value);
      }),
      { seed: FUZZ_SEED, numRuns, endOnFailure: false },
    );
  } catch (err) {
    throw new Error(
      `fuzz "${name}" failed (replay with FUZZ_SEED=${FUZZ_SEED}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  console.log(`figure: fuzz ${name}: ${ran} runs passed, seed ${FUZZ_SEED}`);
}

/** Printable header values (fetch refuses control characters). */
export const headerValue = fc.stringMatching(/^[\x21-\x7e]{0,80}$/);

/** JSON of every shape, strings with odd code points included. */
export const anyJson = fc.jsonValue({ maxDepth: 6 });

/** Text that is rarely JSON: random code points, truncated JSON, lone brackets. */
export const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  anyJson.map((v) => JSON.stringify(v).slice(0, -1)),
  fc.constantFrom("", " ", "{", "[", "}", "null", "true", "0", '"x"', "[]", "{}", "{{}}"),
);

/** `{"k": [[[…]]]}` nested `depth` deep, inside an otherwise plausible frame. */
export const deepNesting = (fields: Record<string, unknown>, key: string) =>
  fc.integer({ min: 1, max: 20_000 }).map((depth) => {
    const head = JSON.stringify(fields).slice(0, -1);
    const nested = "[".repeat(depth) + "]".repeat(depth);
    return `${head}${head.length > 1 ? "," : ""}"${key}":${nested}}`;
  });

/** What the store holds for one owner, to compare before and after a run. */
export async function storedState(server: TestServer, ownerId: number): Promise<unknown> {
  const { store } = server.server;
  const page = await store.conversations.list(ownerId, {}, 100, null);
  const messages = [];
  for (const c of page.conversations) {
    messages.push((await store.messages.recent(c.id, 500)).messages);
  }
  return {
    conversations: page.conversations,
    messages,
    pending: await store.outbox.countPending(),
  };
}

export async function assertUnchanged(
  server: TestServer,
  ownerId: number,
  before: unknown,
): Promise<void> {
  assert.deepEqual(await storedState(server, ownerId), before, "nothing stored may change");
}
