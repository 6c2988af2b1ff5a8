import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReconnectPolicy } from "../../client/reconnect-policy.js";

describe("reconnect policy", () => {
  const options = { baseDelayMs: 100, maxDelayMs: 1_000, stableAfterMs: 5_000 };

  it("doubles the ceiling per failed attempt up to the cap (random at its top)", () => {
    const policy = new ReconnectPolicy(
      options,
      () => 0.999_999,
      () => 0,
    );
    const delays = Array.from({ length: 7 }, () => policy.nextDelay());
    assert.deepEqual(delays, [99, 199, 399, 799, 999, 999, 999]);
    assert.equal(policy.attempts, 7);
  });

  it("draws each wait uniformly below the ceiling (full jitter)", () => {
    const draws = [0, 0.5, 0.25, 0.1];
    const policy = new ReconnectPolicy(
      options,
      () => draws.shift() ?? 0,
      () => 0,
    );
    assert.deepEqual(
      Array.from({ length: 4 }, () => policy.nextDelay()),
      [0, 100, 100, 80],
    );
  });

  it("starts over after a connection that stayed open for stableAfterMs", () => {
    let now = 0;
    const policy = new ReconnectPolicy(
      options,
      () => 0.999_999,
      () => now,
    );
    policy.nextDelay();
    policy.nextDelay();
    policy.nextDelay();
    policy.opened();
    now += 5_000;
    policy.closed();
    assert.equal(policy.attempts, 0);
    assert.equal(policy.nextDelay(), 99);
  });

  it("keeps growing after connections that dropped before they were stable", () => {
    let now = 0;
    const policy = new ReconnectPolicy(
      options,
      () => 0.999_999,
      () => now,
    );
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      delays.push(policy.nextDelay());
      policy.opened();
      now += 4_999;
      policy.closed();
    }
    assert.deepEqual(delays, [99, 199, 399, 799]);
  });

  it("never exceeds the cap, however many attempts", () => {
    const policy = new ReconnectPolicy(
      options,
      () => 0.999_999,
      () => 0,
    );
    for (let i = 0; i < 2_000; i++) assert.ok(policy.nextDelay() < 1_000);
  });

  it("uses the documented defaults", () => {
    assert.deepEqual(new ReconnectPolicy().options, {
      baseDelayMs: 500,
      maxDelayMs: 15_000,
      stableAfterMs: 10_000,
    });
  });
});
