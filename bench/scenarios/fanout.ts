import {
  combineSteps,
  describeStep,
  findMax,
  type MaxSearch,
  RATES,
  runStep,
  type StepResult,
} from "../lib/load-step.js";
import type { Options } from "../lib/options.js";
import { type Row, ratio, thousands, verdict, waitRow } from "../lib/rows.js";
import {
  inTurns,
  type Kind,
  type Log,
  roundLog,
  type Side,
  withBothFleets,
} from "../lib/session.js";

// Customer messages in as Telegram webhooks, round robin over the conversations; out to every
// chat socket of the conversation and to the owner's list socket. One fixed-rate step gives
// latency and deliveries per server CPU-second; --find-max steps the rate up to the limit.

interface Measured {
  fixed: StepResult;
  max: MaxSearch | undefined;
}

/**
 * The fixed-rate window in turns (see `inTurns`), `options.rounds` rounds per server whose
 * figures are added up; then, with --find-max, each server's search, one after the other.
 */
async function measure(options: Options, log: Log): Promise<Record<Kind, Measured>> {
  const plan = { conversations: options.conversations, mode: "webhook" as const };
  // Warm-up (JIT, caches, first writes), not counted: 3 s at the window's rate. After 1 s at
  // 100 msg/s, V8's optimizing compiler was still 12% of the window's CPU (perf).
  const warm = ({ target, fleet }: Side) =>
    runStep(target, fleet, { ...plan, rate: options.rate, seconds: 3 }).then(() => {});
  return withBothFleets(options, warm, async (sides) => {
    const windows = await inTurns(options.rounds, async (kind, counted) => {
      const { target, fleet } = sides[kind];
      const step = await runStep(target, fleet, {
        ...plan,
        rate: options.rate,
        seconds: options.seconds / options.rounds,
      });
      roundLog(log, counted)(describeStep(step));
      return step;
    });
    const search = async (kind: Kind) => {
      const { target, fleet } = sides[kind];
      const base = { ...plan, seconds: options.stepSeconds };
      return options.findMax ? findMax(target, fleet, RATES, base, log) : undefined;
    };
    const bare = { fixed: combineSteps(windows.bare), max: await search("bare") };
    const fiko = { fixed: combineSteps(windows.fiko), max: await search("fiko") };
    return { bare, fiko };
  });
}

export async function fanout(options: Options, log: Log): Promise<Row[]> {
  log(
    `fanout: ${options.conversations} conversations x ${options.perConversation} chat sockets + 1 list socket, webhooks in; the ${options.rate} msg/s window in ${options.rounds} rounds per server`,
  );
  const { bare, fiko } = await measure(options, log);
  const rate = options.rate;
  const perCpu = fiko.fixed.deliveriesPerCpuSecond / (bare.fixed.deliveriesPerCpuSecond || 1);
  const rows: Row[] = [
    {
      scenario: "fanout",
      figure: `latency p50 / p99 at ${rate} msg/s`,
      fiko: `${fiko.fixed.latency.p50.toFixed(1)} / ${fiko.fixed.latency.p99.toFixed(1)} ms`,
      bare: `${bare.fixed.latency.p50.toFixed(1)} / ${bare.fixed.latency.p99.toFixed(1)} ms`,
      ratio: ratio(fiko.fixed.latency.p99, bare.fixed.latency.p99),
      target: "",
      result: "",
    },
    {
      scenario: "fanout",
      figure: `deliveries per server CPU-second at ${rate} msg/s`,
      fiko: thousands(fiko.fixed.deliveriesPerCpuSecond),
      bare: thousands(bare.fixed.deliveriesPerCpuSecond),
      ratio: ratio(fiko.fixed.deliveriesPerCpuSecond, bare.fixed.deliveriesPerCpuSecond),
      target: ">= 0.6x bare",
      result: verdict(perCpu >= 0.6),
    },
    {
      scenario: "fanout",
      figure: `lost / duplicated / HTTP errors at ${rate} msg/s`,
      fiko: `${fiko.fixed.lost + fiko.fixed.listLost} / ${fiko.fixed.duplicates} / ${fiko.fixed.httpErrors}`,
      bare: `${bare.fixed.lost + bare.fixed.listLost} / ${bare.fixed.duplicates} / ${bare.fixed.httpErrors}`,
      ratio: "",
      target: "0 / 0 / 0",
      result: verdict(
        fiko.fixed.lost + fiko.fixed.listLost + fiko.fixed.duplicates + fiko.fixed.httpErrors === 0,
      ),
    },
  ];
  rows.push(waitRow("fanout", rate, fiko.fixed, bare.fixed));
  if (fiko.max && bare.max) {
    rows.push({
      scenario: "fanout",
      figure: "highest passing rate (p99 <= 50 ms, no loss, no HTTP error)",
      fiko: `${thousands(fiko.max.highest)} msg/s`,
      bare: `${thousands(bare.max.highest)} msg/s`,
      ratio: ratio(fiko.max.highest, bare.max.highest),
      target: ">= 1,400 msg/s",
      result: verdict(fiko.max.highest >= 1400),
    });
    rows.push({
      scenario: "fanout",
      figure: "deliveries per second at the highest passing rate",
      fiko: thousands(fiko.max.highest * options.perConversation),
      bare: thousands(bare.max.highest * options.perConversation),
      ratio: "",
      target: "",
      result: "",
    });
  }
  return rows;
}
