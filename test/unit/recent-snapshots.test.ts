import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecentSnapshots } from "../../src/realtime/recent-snapshots.js";
import { SharedFrame } from "../../src/realtime/shared-frame.js";

// The process's kept snapshot frames: served only under the version and customer they were
// read with, never past their age, and never more bytes than the budget.

const frame = (text: string) => ({ frame: new SharedFrame(text), lastSeq: text.length });
/** What `keep` counts for an ASCII frame under 126 bytes: two bytes a character plus the wire. */
const costOf = (text: string) => text.length * 2 + text.length + 2;

describe("recent snapshots", () => {
  it("serves a frame only under its version and customer, and forgets it on a mismatch", () => {
    const kept = new RecentSnapshots({ maxAgeMs: 1000, maxBytes: 10_000 }, () => 0);
    const a = frame('{"a":1}');
    kept.keep("c1", 5, "ann", a);
    assert.equal(kept.get("c1", 5, "ann")?.frame, a.frame);
    assert.equal(kept.get("c1", 5, "ann")?.lastSeq, 7);
    assert.equal(kept.get("c2", 5, "ann"), undefined);
    assert.equal(kept.get("c1", 5, "anna"), undefined);
    // The mismatch retired it: the right key no longer finds it either.
    assert.equal(kept.get("c1", 5, "ann"), undefined);
    kept.keep("c1", 5, "ann", a);
    assert.equal(kept.get("c1", 6, "ann"), undefined);
    assert.equal(kept.size, 0);
  });

  it("serves a frame for its age and no longer", () => {
    let now = 1000;
    const kept = new RecentSnapshots({ maxAgeMs: 2000, maxBytes: 10_000 }, () => now);
    kept.keep("c1", 1, "ann", frame("{}"));
    now = 3000;
    assert.ok(kept.get("c1", 1, "ann"));
    now = 3001;
    assert.equal(kept.get("c1", 1, "ann"), undefined);
  });

  it("drops aged frames and then the oldest when the budget is full, as it keeps", () => {
    let now = 0;
    const text = '{"type":"recent_messages"}';
    const kept = new RecentSnapshots({ maxAgeMs: 100, maxBytes: costOf(text) * 3 }, () => now);
    kept.keep("old", 1, "x", frame(text));
    now = 50;
    for (const id of ["a", "b"]) kept.keep(id, 1, "x", frame(text));
    now = 101;
    // "old" aged out; "a" and "b" have not.
    kept.keep("c", 1, "x", frame(text));
    assert.equal(kept.size, 3);
    assert.equal(kept.get("old", 1, "x"), undefined);
    // Keeping "a" again makes it the newest: the budget then drops "b", the oldest.
    kept.keep("a", 2, "x", frame(text));
    kept.keep("d", 1, "x", frame(text));
    assert.deepEqual(
      ["a", "b", "c", "d"].map((id) => kept.get(id, id === "a" ? 2 : 1, "x") !== undefined),
      [true, false, true, true],
    );
  });

  it("does not keep a frame larger than the whole budget", () => {
    const kept = new RecentSnapshots({ maxAgeMs: 100, maxBytes: 10 }, () => 0);
    kept.keep("c1", 1, "x", frame('{"too":"big"}'));
    assert.equal(kept.size, 0);
  });
});
