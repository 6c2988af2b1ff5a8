import { connect as openSocket } from "../lib/fleet.js";
import type { Options } from "../lib/options.js";
import { runQueueWait } from "../lib/proc.js";
import { type Row, ratio, thousands, verdict } from "../lib/rows.js";
import { type Kind, type Log, withTarget } from "../lib/session.js";
import { inParallel, spread } from "../lib/stats.js";
import type { Target } from "../lib/targets.js";

// A connect storm: `connects` chat sockets, 50 at a time, each authenticated (Fiko checks the
// token and the conversation's owner), greeted with `connection_established` and the
// `recent_messages` snapshot of the last 50 messages, then closed by the client. The
// conversations hold 50 messages each first, so every snapshot is full.

const WIDTH = 50;
const SNAPSHOT = 50;

async function seed(target: Target, options: Options): Promise<void> {
  const total = options.conversations * SNAPSHOT;
  await inParallel(total, 16, async (i) => {
    const status = await target.post(0, i % options.conversations, `seed ${i}`);
    if (status !== 200) throw new Error(`seed webhook answered ${status}`);
  });
}

interface Storm {
  perCpuSecond: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
  waited: number;
  wall: number;
}

async function storm(options: Options, kind: Kind, log: Log): Promise<Storm> {
  return withTarget(options, kind, async (target) => {
    await seed(target, options);
    const server = target.servers[0];
    if (!server) throw new Error("no server");
    let failures = 0;
    const times: number[] = [];
    const one = async (i: number) => {
      const started = performance.now();
      try {
        const ws = await openSocket(
          target.chatUrl(i % options.conversations, 0),
          "recent_messages",
        );
        times.push(performance.now() - started);
        await new Promise<void>((resolve) => {
          ws.once("close", () => resolve());
          ws.close();
        });
      } catch {
        failures++;
      }
    };
    await inParallel(Math.min(500, options.connects), WIDTH, one); // warm-up, not counted
    const cpu = server.cpu();
    const waitBefore = runQueueWait(server.pid);
    const start = performance.now();
    await inParallel(options.connects, WIDTH, one);
    const wall = (performance.now() - start) / 1000;
    const used = server.cpu() - cpu;
    const waited = runQueueWait(server.pid) - waitBefore;
    times.splice(0, times.length - options.connects);
    const latency = spread(times);
    const result = {
      perCpuSecond: used > 0 ? (options.connects - failures) / used : 0,
      perSecond: (options.connects - failures) / wall,
      p50: latency.p50,
      p99: latency.p99,
      failures,
      waited,
      wall,
    };
    log(
      `${kind.padEnd(7)} ${options.connects} connects in ${wall.toFixed(1)} s (${Math.round(result.perSecond)}/s), server CPU ${used.toFixed(2)} s (${Math.round(result.perCpuSecond)} connects/CPU-s), connect-to-snapshot p50 ${latency.p50.toFixed(1)} ms p99 ${latency.p99.toFixed(1)} ms, ${failures} failed, server waited ${waited.toFixed(2)} s for a CPU`,
    );
    return result;
  });
}

export async function connect(options: Options, log: Log): Promise<Row[]> {
  log(
    `connect: ${options.connects} authenticated chat connects with a ${SNAPSHOT}-message snapshot, ${WIDTH} at a time`,
  );
  const bare = await storm(options, "bare", log);
  const fiko = await storm(options, "fiko", log);
  return [
    {
      scenario: "connect",
      figure: "authenticated connects (with snapshot) per server CPU-second",
      fiko: thousands(fiko.perCpuSecond),
      bare: thousands(bare.perCpuSecond),
      ratio: ratio(fiko.perCpuSecond, bare.perCpuSecond),
      target: ">= 0.5x bare",
      result: verdict(fiko.perCpuSecond >= 0.5 * bare.perCpuSecond),
    },
    {
      scenario: "connect",
      figure: `connects per second, connect-to-snapshot p50 / p99 (${WIDTH} in flight)`,
      fiko: `${thousands(fiko.perSecond)}/s, ${fiko.p50.toFixed(1)} / ${fiko.p99.toFixed(1)} ms`,
      bare: `${thousands(bare.perSecond)}/s, ${bare.p50.toFixed(1)} / ${bare.p99.toFixed(1)} ms`,
      ratio: ratio(fiko.perSecond, bare.perSecond),
      target: "",
      result: "",
    },
    {
      scenario: "connect",
      figure: "server time waiting for a CPU (run queue) during the storm",
      fiko: `${fiko.waited.toFixed(2)} s of ${fiko.wall.toFixed(1)} s`,
      bare: `${bare.waited.toFixed(2)} s of ${bare.wall.toFixed(1)} s`,
      ratio: "",
      target: "",
      result: "",
    },
    {
      scenario: "connect",
      figure: "failed connects",
      fiko: String(fiko.failures),
      bare: String(bare.failures),
      ratio: "",
      target: "0",
      result: verdict(fiko.failures === 0),
    },
  ];
}
