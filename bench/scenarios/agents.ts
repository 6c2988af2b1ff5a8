import { backgroundCpu, describeStep, runStep, type StepResult } from "../lib/load-step.js";
import type { Options } from "../lib/options.js";
import { type Row, ratio, verdict, waitRow } from "../lib/rows.js";
import { type Kind, type Log, withFleet, withTarget } from "../lib/session.js";

// Agents typing: `chat_message` frames in at a steady rate (round robin over conversations and
// over each conversation's sockets), out to every chat socket of the conversation. On Fiko each
// message is also stored, handed to the outbox and sent to the fake Telegram (`sendMessage`),
// which answers at once; the window ends when every delivery and every send happened, so the
// CPU per message includes the outbox's work and its `message_updated` frames.

async function measure(
  options: Options,
  kind: Kind,
  log: Log,
): Promise<StepResult & { background: number }> {
  return withTarget(options, kind, (target) =>
    withFleet(target, options, async (fleet) => {
      const plan = { conversations: options.conversations, mode: "agent" as const };
      // Warm-up, not counted: 500 messages, so that V8 has optimized the path the window
      // measures. At 10 msg/s alone, 10 messages left the server's code in the interpreter
      // and its compiler was 14% of the window's CPU.
      await runStep(target, fleet, { ...plan, rate: 100, seconds: 5 });
      const step = await runStep(target, fleet, {
        ...plan,
        rate: options.agentRate,
        seconds: options.quick ? 5 : 20,
      });
      log(`${describeStep(step)} | telegram sendMessage ${step.telegramSends}`);
      const background = await backgroundCpu(target);
      log(
        `${kind.padEnd(7)} no traffic: server CPU ${(background * 1000).toFixed(1)} ms per second`,
      );
      return { ...step, background };
    }),
  );
}

export async function agents(options: Options, log: Log): Promise<Row[]> {
  log(
    `agents: ${options.agentRate} chat_message/s into ${options.conversations} conversations x ${options.perConversation} chat sockets`,
  );
  const bare = await measure(options, "bare", log);
  const fiko = await measure(options, "fiko", log);
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
