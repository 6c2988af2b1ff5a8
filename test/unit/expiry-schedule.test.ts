import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { type Expiring, ExpirySchedule } from "../../src/realtime/expiry-schedule.js";

// One timer ends every socket at its token's expiry (protocol.md section 4: 4001 at that
// moment), in expiry order, and a socket that closed first is not ended later.

const item = (name: string, expiresAt: number, ended: string[]): Expiring => ({
  expiresAt,
  expiryIndex: -1,
  expire: () => ended.push(name),
});

describe("expiry schedule", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000 }));
  afterEach(() => mock.timers.reset());

  it("ends items at their time, in order, whatever order they came in", () => {
    const ended: string[] = [];
    const schedule = new ExpirySchedule();
    for (const [name, at] of [
      ["c", 4_000],
      ["a", 2_000],
      ["d", 5_000],
      ["b", 3_000],
      ["b2", 3_000],
    ] as const) {
      schedule.add(item(name, at, ended));
    }
    mock.timers.tick(999);
    assert.deepEqual(ended, []);
    mock.timers.tick(1);
    assert.deepEqual(ended, ["a"]);
    mock.timers.tick(1_000);
    assert.deepEqual(ended.slice().sort(), ["a", "b", "b2"]);
    mock.timers.tick(2_000);
    assert.deepEqual(ended.slice(3), ["c", "d"]);
    assert.equal(schedule.size, 0);
  });

  it("ends an item already due at once, and never one removed before its time", () => {
    const ended: string[] = [];
    const schedule = new ExpirySchedule();
    schedule.add(item("due", 1_000, ended));
    assert.deepEqual(ended, ["due"]);
    const items = [1, 2, 3, 4, 5, 6].map((n) => item(`i${n}`, 1_000 + n * 100, ended));
    for (const entry of items) schedule.add(entry);
    for (const removed of [items[0], items[3], items[5]]) if (removed) schedule.remove(removed);
    // Removing twice, or an item never added, changes nothing.
    if (items[0]) schedule.remove(items[0]);
    schedule.remove(item("never", 9_999, ended));
    mock.timers.tick(1_000);
    assert.deepEqual(ended, ["due", "i2", "i3", "i5"]);
    assert.equal(schedule.size, 0);
  });

  it("stop ends nothing more", () => {
    const ended: string[] = [];
    const schedule = new ExpirySchedule();
    schedule.add(item("x", 2_000, ended));
    schedule.stop();
    mock.timers.tick(5_000);
    assert.deepEqual(ended, []);
  });
});
