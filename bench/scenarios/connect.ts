import { connect as openSocket } from "../lib/fleet.js";
import type { Options } from "../lib/options.js";
import { runQueueWait } from "../lib/proc.js";
import { type Row, ratio, thousands, verdict } from "../lib/rows.js";
import { inTurns, type Kind, type Log, roundLog, withTarget } from "../lib/session.js";
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

/** One server's connects over all rounds. */
interface Storm {
  kind: Kind;
  connects: number;
  failures: number;
  cpu: number;
  waited: number;
  wall: number;
  times: number[];
}

const perCpuSecond = (s: Storm) => (s.cpu > 0 ? (s.connects - s.failures) / s.cpu : 0);
const perSecond = (s: Storm) => (s.wall > 0 ? (s.connects - s.failures) / s.wall : 0);

/** Connects `count` sockets, `WIDTH` at a time, each until its snapshot, then closes it. */
async function connectMany(target: Target, options: Options, count: number, into?: Storm) {
  await inParallel(count, WIDTH, async (i) => {
    const started = performance.now();
    try {
      const ws = await openSocket(target.chatUrl(i % options.conversations, 0), "recent_messages");
      into?.times.push(performance.now() - started);
      await new Promise<void>((resolve) => {
        ws.once("close", () => resolve());
        ws.close();
      });
    } catch {
      if (into) into.failures++;
    }
  });
}

/** One round of one server: `options.connects` connects, added to `storm`. */
async function round(target: Target, options: Options, storm: Storm, log: Log): Promise<number> {
  const server = target.servers[0];
  if (!server) throw new Error("no server");
  const cpu = server.cpu();
  const waitBefore = runQueueWait(server.pid);
  const failuresBefore = storm.failures;
  const start = performance.now();
  await connectMany(target, options, options.connects, storm);
  const wall = (performance.now() - start) / 1000;
  const used = server.cpu() - cpu;
  const waited = runQueueWait(server.pid) - waitBefore;
  storm.connects += options.connects;
  storm.cpu += used;
  storm.wall += wall;
  storm.waited += waited;
  const ok = options.connects - (storm.failures - failuresBefore);
  const rate = used > 0 ? ok / used : 0;
  log(
    `${storm.kind.padEnd(7)} ${options.connects} connects in ${wall.toFixed(1)} s (${Math.round(ok / wall)}/s), server CPU ${used.toFixed(2)} s (${Math.round(rate)} connects/CPU-s), ${storm.failures - failuresBefore} failed, server waited ${waited.toFixed(2)} s for a CPU`,
  );
  return rate;
}

const emptyStorm = (kind: Kind): Storm => ({
  kind,
  connects: 0,
  failures: 0,
  cpu: 0,
  waited: 0,
  wall: 0,
  times: [],
});

/**
 * Both servers run at once (the idle one costs its core next to nothing) and take turns in
 * rounds (see `inTurns`): the ratio of single storms a minute apart ranged from 0.29x to
 * 0.75x. Figures are over all rounds; each round's ratio is logged.
 */
async function storms(options: Options, log: Log): Promise<Record<Kind, Storm>> {
  return withTarget(options, "bare", (bare) =>
    withTarget(options, "fiko", async (fiko) => {
      const targets = { bare, fiko };
      const result = { bare: emptyStorm("bare"), fiko: emptyStorm("fiko") };
      for (const kind of ["bare", "fiko"] as const) {
        await seed(targets[kind], options);
        await connectMany(targets[kind], options, Math.min(500, options.connects)); // warm-up
      }
      const rates = await inTurns(options.rounds, (kind, counted) => {
        const into = counted ? result[kind] : emptyStorm(kind);
        return round(targets[kind], options, into, roundLog(log, counted));
      });
      rates.fiko.forEach((rate, i) => {
        log(`round ${i + 1} of ${options.rounds}: Fiko / bare ${ratio(rate, rates.bare[i] ?? 0)}`);
      });
      return result;
    }),
  );
}

export async function connect(options: Options, log: Log): Promise<Row[]> {
  log(
    `connect: ${options.rounds} rounds of ${options.connects} authenticated chat connects per server with a ${SNAPSHOT}-message snapshot, ${WIDTH} at a time`,
  );
  const { bare, fiko } = await storms(options, log);
  const latency = { bare: spread(bare.times), fiko: spread(fiko.times) };
  return [
    {
      scenario: "connect",
      figure: "authenticated connects (with snapshot) per server CPU-second",
      fiko: thousands(perCpuSecond(fiko)),
      bare: thousands(perCpuSecond(bare)),
      ratio: ratio(perCpuSecond(fiko), perCpuSecond(bare)),
      target: ">= 0.5x bare",
      result: verdict(perCpuSecond(fiko) >= 0.5 * perCpuSecond(bare)),
    },
    {
      scenario: "connect",
      figure: `connects per second, connect-to-snapshot p50 / p99 (${WIDTH} in flight)`,
      fiko: `${thousands(perSecond(fiko))}/s, ${latency.fiko.p50.toFixed(1)} / ${latency.fiko.p99.toFixed(1)} ms`,
      bare: `${thousands(perSecond(bare))}/s, ${latency.bare.p50.toFixed(1)} / ${latency.bare.p99.toFixed(1)} ms`,
      ratio: ratio(perSecond(fiko), perSecond(bare)),
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
