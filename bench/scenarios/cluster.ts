import { Fleet } from "../lib/fleet.js";
import {
  backgroundCpu,
  describeStep,
  findMax,
  LOW_RATES,
  type MaxSearch,
  runStep,
  type StepResult,
} from "../lib/load-step.js";
import type { Options } from "../lib/options.js";
import { type Row, thousands, verdict, waitRow } from "../lib/rows.js";
import { pinServices } from "../lib/service-affinity.js";
import { type Log, withFleet, withTarget } from "../lib/session.js";
import { startFiko } from "../lib/targets.js";

// Two Fiko processes on one PostgreSQL database and one Redis: both Fiko processes on the
// server core, PostgreSQL and Redis (when local) on the driver's. Each conversation's chat
// sockets are split evenly over the two processes and the webhooks alternate between them, so
// half the deliveries cross Redis. `added latency` is the remote deliveries' latency minus the
// local ones'. Then the highest passing rate over all conversations, and into a single
// conversation (every socket must see seq strictly rising).

interface Measured {
  background: number;
  fixed: StepResult;
  spread: MaxSearch;
  single: MaxSearch;
}

async function measureCluster(options: Options, log: Log): Promise<Measured> {
  const pinned = await pinServices(options.databaseUrl, options.redisUrl, options.driverCore);
  log(`cluster: ${pinned.moved} (the server core is the two Fiko processes')`);
  process.once("exit", pinned.unpin);
  try {
    return await measurePinned(options, log);
  } finally {
    pinned.unpin();
    process.removeListener("exit", pinned.unpin);
  }
}

async function measurePinned(options: Options, log: Log): Promise<Measured> {
  const target = await startFiko(
    { core: options.serverCore, dist: options.dist, root: options.serverRoot },
    options.conversations,
    {
      processes: 2,
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
    },
  );
  try {
    const fleet = await Fleet.open(target, {
      conversations: options.conversations,
      perConversation: options.perConversation,
      lists: 1,
    });
    try {
      const plan = { conversations: options.conversations, mode: "webhook" as const };
      await runStep(target, fleet, { ...plan, rate: 50, seconds: 1 });
      const background = await backgroundCpu(target);
      log(
        `fiko    no traffic: server CPU ${(background * 1000).toFixed(1)} ms per second (both processes)`,
      );
      const fixed = await runStep(target, fleet, {
        ...plan,
        rate: options.clusterRate,
        seconds: options.seconds,
      });
      log(
        `${describeStep(fixed)} | local p50/p99 ${fixed.local.p50.toFixed(1)}/${fixed.local.p99.toFixed(1)} ms, remote ${fixed.remote.p50.toFixed(1)}/${fixed.remote.p99.toFixed(1)} ms`,
      );
      const seconds = options.stepSeconds;
      log("cluster: highest rate over all conversations");
      const spread = await findMax(target, fleet, LOW_RATES, { ...plan, seconds }, log);
      log("cluster: highest rate into one conversation (order checked on every socket)");
      const single = await findMax(
        target,
        fleet,
        LOW_RATES,
        { conversations: 1, mode: "webhook", seconds },
        log,
      );
      return { background, fixed, spread, single };
    } finally {
      await fleet.close();
    }
  } finally {
    await target.close();
  }
}

export async function cluster(options: Options, log: Log): Promise<Row[]> {
  log(
    `cluster: 2 processes on PostgreSQL + Redis, ${options.conversations} x ${options.perConversation} chat sockets split over both`,
  );
  const bare = await withTarget(options, "bare", (target) =>
    withFleet(target, options, async (fleet) => {
      const plan = { conversations: options.conversations, mode: "webhook" as const };
      await runStep(target, fleet, { ...plan, rate: 50, seconds: 1 });
      const step = await runStep(target, fleet, {
        ...plan,
        rate: options.clusterRate,
        seconds: options.seconds,
      });
      log(describeStep(step));
      return step;
    }),
  );
  const fiko = await measureCluster(options, log);
  const { fixed } = fiko;
  const rate = options.clusterRate;
  const ordered = (search: MaxSearch) =>
    search.steps.every((s) => s.plan.rate > search.highest || s.orderErrors === 0);
  return [
    {
      scenario: "cluster",
      figure: `latency p50 / p99 at ${rate} msg/s, same process / other process`,
      fiko: `${fixed.local.p50.toFixed(1)} / ${fixed.local.p99.toFixed(1)} ms; ${fixed.remote.p50.toFixed(1)} / ${fixed.remote.p99.toFixed(1)} ms`,
      bare: `${bare.latency.p50.toFixed(1)} / ${bare.latency.p99.toFixed(1)} ms (one process)`,
      ratio: "",
      target: "",
      result: "",
    },
    waitRow("cluster", rate, fixed, bare),
    {
      scenario: "cluster",
      figure: "server CPU per second with the sockets open and no traffic (both processes)",
      fiko: `${(fiko.background * 1000).toFixed(1)} ms`,
      bare: "",
      ratio: "",
      target: "",
      result: "",
    },
    {
      scenario: "cluster",
      figure: `added latency of the other process (p50 / p99) at ${rate} msg/s`,
      // An overloaded window measures its queue, which both halves share: no hop to see.
      fiko: fixed.pass
        ? `${(fixed.remote.p50 - fixed.local.p50).toFixed(1)} / ${(fixed.remote.p99 - fixed.local.p99).toFixed(1)} ms`
        : `n/a (window failed: ${fixed.failure})`,
      bare: "",
      ratio: "",
      target: "",
      result: "",
    },
    {
      scenario: "cluster",
      figure: `highest passing fan-out, ${options.conversations} conversations (PostgreSQL + Redis)`,
      fiko: `${thousands(fiko.spread.highest)} msg/s`,
      bare: "",
      ratio: "",
      target: ">= 1,000 msg/s",
      result: verdict(fiko.spread.highest >= 1000),
    },
    {
      scenario: "cluster",
      figure: "highest passing rate into one conversation, order kept on every socket",
      fiko: `${thousands(fiko.single.highest)} msg/s`,
      bare: "",
      ratio: "",
      target: ">= 300 msg/s",
      result: verdict(fiko.single.highest >= 300 && ordered(fiko.single)),
    },
  ];
}
