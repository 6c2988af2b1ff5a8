import {
  backgroundCpu,
  combineSteps,
  describeStep,
  runStep,
  type StepResult,
} from "../lib/load-step.js";
import type { Options } from "../lib/options.js";
import { type Row, ratio, verdict, waitRow } from "../lib/rows.js";
import {
  inTurns,
  type Kind,
  type Log,
  roundLog,
  type Side,
  withBothFleets,
} from "../lib/session.js";

// Agents typing: `chat_message` frames in at a steady rate (round robin over conversations and
// over each conversation's sockets), out to every chat socket of the conversation. On Fiko each
// message is also stored, handed to the outbox and sent to the fake Telegram (`sendMessage`),
// which answers at once; the window ends when every delivery and every send happened, so the
// CPU per message includes the outbox's work and its `message_updated` frames.

type Measured = StepResult & { background: number };

/**
 * Both servers with their sockets open, taking turns in rounds of equal length (see
 * `inTurns`): single windows a minute apart measured the machine's drift too (the bare
 * server's own p99 ranged from 3.2 to 13.5 ms over runs). Figures are over all rounds.
 */
async function measure(options: Options, log: Log): Promise<Record<Kind, Measured>> {
  const plan = { conversations: options.conversations, mode: "agent" as const };
  // Warm-up, not counted: 500 messages. At 10 msg/s alone, 10 messages left the server's code
  // in the interpreter and its compiler was 14% of the window's CPU.
  const warm = ({ target, fleet }: Side) =>
    runStep(target, fleet, { ...plan, rate: 100, seconds: 5 }).then(() => {});
  return withBothFleets(options, warm, async (sides) => {
    const seconds = (options.quick ? 5 : 20) / options.rounds;
    const steps = await inTurns(options.rounds, async (kind, counted) => {
      const { target, fleet } = sides[kind];
      const step = await runStep(target, fleet, {
        ...plan,
        rate: options.agentRate,
        seconds,
      });
      roundLog(log, counted)(`${describeStep(step)} | telegram sendMessage ${step.telegramSends}`);
      return step;
    });
    const finish = async (kind: Kind): Promise<Measured> => {
      const background = await backgroundCpu(sides[kind].target);
      log(
        `${kind.padEnd(7)} no traffic: server CPU ${(background * 1000).toFixed(1)} ms per second`,
      );
      return { ...combineSteps(steps[kind]), background };
    };
    return { bare: await finish("bare"), fiko: await finish("fiko") };
  });
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
