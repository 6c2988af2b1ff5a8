import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createSqlStore } from "../../src/store/sql/create-store.js";
import { inbound, newChannel, newOwner } from "../helpers/stores.js";

// The server's connection never checkpoints the WAL itself; a thread does, a few times a
// second. Thirty messages stay far below SQLite's own 1,000-page threshold, so the database
// file grows only if that thread copied them in.

const dir = mkdtempSync(join(tmpdir(), "fiko-checkpoint-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function sizeAfterCheckpoints(path: string, above: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  let size = statSync(path).size;
  while (size <= above && Date.now() < deadline) {
    await sleep(50);
    size = statSync(path).size;
  }
  return size;
}

it("copies committed messages into the database file from a thread, below SQLite's threshold", async () => {
  const path = join(dir, "fiko.sqlite");
  const store = await createSqlStore({ sqlitePath: path });
  try {
    await store.migrate();
    const owner = await newOwner(store);
    const channel = await newChannel(store, owner.id);
    await store.messages.ingest(inbound(channel, { content: "first" }));
    // The schema and the first rows reach the file first; then the file stops growing.
    const settled = await sizeAfterCheckpoints(path, 0);
    await sleep(600);
    const before = statSync(path).size;
    assert.ok(settled > 0);

    for (let i = 0; i < 30; i++) {
      await store.messages.ingest(
        inbound(channel, { content: `message ${i} ${"x".repeat(2000)}` }),
      );
    }
    // 30 messages of about 2 KB each reach the file, not only the log (a checkpoint may copy
    // them in several steps, so the wait is for all of them).
    const grown = await sizeAfterCheckpoints(path, before + 30 * 2000);
    assert.ok(grown - before >= 30 * 2000, `grew by ${grown - before} bytes only`);
  } finally {
    await store.close();
  }
});
