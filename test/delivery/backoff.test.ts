import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_RETRY_DELAY_MS, retryDelayMs } from "../../src/delivery/backoff.js";

describe("retry delay", () => {
  it("doubles per attempt, between half and all of base * 2^(attempt-1)", () => {
    const low = () => 0;
    const high = () => 1;
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => [
        retryDelayMs(n, 1000, undefined, low),
        retryDelayMs(n, 1000, undefined, high),
      ]),
      [
        [500, 1000],
        [1000, 2000],
        [2000, 4000],
        [4000, 8000],
      ],
    );
  });

  it("is capped", () => {
    assert.equal(
      retryDelayMs(40, 1000, undefined, () => 1),
      MAX_RETRY_DELAY_MS,
    );
  });

  it("never waits less than the platform asked", () => {
    assert.equal(
      retryDelayMs(1, 20, 3, () => 0),
      3000,
    );
    assert.equal(
      retryDelayMs(5, 1000, 1, () => 1),
      16_000,
    );
  });
});
