import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { it } from "node:test";

// 1,000 sockets (half chat, half list; one in five dropped without a close handshake) open and
// close against one server; afterwards no socket, group, timer or listener is left and the heap
// after GC is back near where it was. In a child process, the only one run with --expose-gc.
// A soak by hand: CHURN_SECONDS=60 npm run test:one test/ops/churn.test.ts

const MAX_HEAP_GROWTH = 4 * 1024 * 1024;

interface Figures {
  opened: number;
  elapsedMs: number;
  heapBaseline: number;
  heapAfter: number;
  heapGrowth: number;
  sockets: number;
  groups: number;
  resourcesBefore: Record<string, number>;
  resourcesAfter: Record<string, number>;
  upgradeListeners: [number, number];
  connectionListeners: [number, number];
  warnings: number;
}

function runChurn(): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "test/ops/churn-run.ts"],
      {
        cwd: new URL("../..", import.meta.url).pathname,
        env: process.env,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) return reject(new Error(`churn run exited ${code}: ${out}`));
      resolve(JSON.parse(line) as Figures);
    });
  });
}

it("leaves no sockets, groups, timers, listeners or heap behind after socket churn", async () => {
  const f = await runChurn();
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  console.log(
    `figure: churn ${f.opened} sockets in ${f.elapsedMs} ms; heap after GC ${mb(f.heapBaseline)} -> ${mb(f.heapAfter)} (${f.heapGrowth >= 0 ? "+" : ""}${mb(f.heapGrowth)})`,
  );
  assert.ok(f.opened >= 1000);
  assert.equal(f.sockets, 0, "sockets tracked by the gateway");
  assert.equal(f.groups, 0, "bus subscriptions of groups");
  assert.deepEqual(f.resourcesAfter, f.resourcesBefore, "active handles and timers");
  assert.equal(f.upgradeListeners[1], f.upgradeListeners[0]);
  assert.equal(f.connectionListeners[1], f.connectionListeners[0]);
  assert.equal(f.warnings, 0, "no MaxListenersExceeded or other process warnings");
  assert.ok(f.heapGrowth < MAX_HEAP_GROWTH, `heap grew ${mb(f.heapGrowth)}`);
});
