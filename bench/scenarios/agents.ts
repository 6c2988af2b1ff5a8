import type { Fleet } from "../lib/fleet.js";
import {
  backgroundCpu,
  combineSteps,
  describeStep,
  runStep,
  type StepResult,
} from "../lib/load-step.js";
import type { Options } from "../lib/options.js";
import { type Row, ratio, verdict, waitRow } from "../lib/rows.js";
import { type Kind, type Log, withFleet, withTarget } from "../lib/session.js";
import type { Target } from "../lib/targets.js";

// Agents typing: `chat_message` frames in at a steady rate (round robin over conversations and
// over each conversation's sockets), out to every chat socket of the conversation. On Fiko each
// message is also stored, handed to the outbox and sent to the fake Telegram (`sendMessage`),
// which answers at once; the window ends when every delivery and every send happened, so the
// CPU per message includes the outbox's work and its `message_updated` frames.

type Measured = StepResult & { background: number };

const PLAN = (options: Options) => ({
  conversations: options.conversations,
  mode: "agent" as const,
});

/** A server with its fleet open, warmed up: 500 messages, not counted. */
async function withWarmFleet<T>(
  options: Options,
  kind: Kind,
  use: (target: Target, fleet: Fleet) => Promise<T>,
): Promise<T> {
  return withTarget(options, kind, (target) =>
    withFleet(target, options, async (fleet) => {
      // At 10 msg/s alone, 10 messages left the server's code in the interpreter and its
      // compiler was 14% of the window's CPU.
      await runStep(target, fleet, { ...PLAN(options), rate: 100, seconds: 5 });
      return use(target, fleet);
    }),
  );
}

/**
 * Both servers run with their sockets open and take turns in rounds of equal length (bare,
 * Fiko, Fiko, bare, ...), as in `connect`: single windows a minute apart measured the
 * machine's drift too (the bare server's own p99 ranged from 3.2 to 13.5 ms over runs).
 */
async function measure(options: Options, log: Log): Promise<Record<Kind, Measured>> {
  return withWarmFleet(options, "bare", (bare, bareFleet) =>
    withWarmFleet(options, "fiko", async (fiko, fikoFleet) => {
      const sides = {
        bare: { target: bare, fleet: bareFleet },
        fiko: { target: fiko, fleet: fikoFleet },
      };
      const steps: Record<Kind, StepResult[]> = { bare: [], fiko: [] };
      const seconds = (options.quick ? 5 : 20) / options.rounds;
      for (let i = 0; i < options.rounds; i++) {
        const order = i % 2 === 0 ? (["bare", "fiko"] as const) : (["fiko", "bare"] as const);
        for (const kind of order) {
          const { target, fleet } = sides[kind];
          const step = await runStep(target, fleet, {
            ...PLAN(options),
            rate: options.agentRate,
            seconds,
          });
          log(`${describeStep(step)} | telegram sendMessage ${step.telegramSends}`);
          steps[kind].push(step);
        }
      }
      const finish = async (kind: Kind): Promise<Measured> => {
        const background = await backgroundCpu(sides[kind].target);
        log(
          `${kind.padEnd(7)} no traffic: server CPU ${(background * 1000).toFixed(1)} ms per second`,
        );
        return { ...combineSteps(steps[kind]), background };
      };
      return { bare: await finish("bare"), fiko: await finish("fiko") };
    }),
  );
}

export async function agents(options: Options, log: Log): Promise<Row[]> {
  log(
    `agents: ${options.agentRate} chat_message/s into ${options.conversations} conversations x ${options.perConversation} chat sockets, ${options.rounds} rounds per server`,
  );
  const { bare, fiko } = await measure(options, log);
  const rate = options.agentRate;
  return [
    {
      scenario: "agents",
      figure: `latency p50 / p99 at ${rate} msg/s (every socket of the conversation)`,
      fiko: `${fiko.latency.p50.toFixed(1)} / ${fiko.latency.p99.toFixed(1)} ms`,
      bare: `${bare.latency.p50.toFixed(1)} / ${bare.latency.p99.toFixed(1)} ms`,
      ratio: ratio(fiko.latency.p99, bare.latency.p99),
      target: "p99 <= 2x bare",
      result: verdict(fiko.latency.p99 <= 2 * bare.latency.p99),
    },
    {
      scenario: "agents",
      figure: "server CPU per agent message (store, fan-out, outbox send)",
      fiko: `${fiko.cpuPerMessageMs.toFixed(2)} ms`,
      bare: `${bare.cpuPerMessageMs.toFixed(2)} ms`,
      ratio: ratio(fiko.cpuPerMessageMs, bare.cpuPerMessageMs),
      target: "<= 0.5 ms",
      result: verdict(fiko.cpuPerMessageMs <= 0.5),
    },
    {
      scenario: "agents",
      figure: "lost / duplicated deliveries; messages sent to Telegram",
      fiko: `${fiko.lost} / ${fiko.duplicates}; ${fiko.telegramSends} of ${fiko.sent}`,
      bare: `${bare.lost} / ${bare.duplicates}; none (no platform)`,
      ratio: "",
      target: "0 / 0; all",
      result: verdict(fiko.lost + fiko.duplicates === 0 && fiko.telegramSends === fiko.sent),
    },
    {
      scenario: "agents",
      figure: "server CPU per second with the sockets open and no traffic",
      fiko: `${(fiko.background * 1000).toFixed(1)} ms`,
      bare: `${(bare.background * 1000).toFixed(1)} ms`,
      ratio: "",
      target: "",
      result: "",
    },
    waitRow("agents", rate, fiko, bare),
  ];
}
