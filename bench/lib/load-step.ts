import type { Fleet } from "./fleet.js";
import { benchText } from "./frames.js";
import { runQueueWait } from "./proc.js";
import { round, type Spread, sleep, spread } from "./stats.js";
import type { Target } from "./targets.js";
import { Run } from "./tracker.js";

/** A step passes when p99 <= this and nothing was lost, repeated, reordered or refused. */
export const P99_LIMIT_MS = 50;
/** BENCH_TIMELINE=1: each window also prints its slowest delivery per stretch of this length. */
const TIMELINE_STRETCH_MS = 100;

export interface StepPlan {
  /** Messages per second, all conversations together. */
  rate: number;
  seconds: number;
  /** Conversations the messages go to (round robin), from the first one. */
  conversations: number;
  /** `webhook`: customer messages as Telegram webhooks; `agent`: `chat_message` frames. */
  mode: "webhook" | "agent";
}

export interface StepResult {
  target: string;
  plan: StepPlan;
  sent: number;
  httpErrors: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  orderErrors: number;
  listLost: number;
  latency: Spread;
  /** Every delivery's latency (ms), for figures over several windows (`combineSteps`). */
  latencies: number[];
  local: Spread;
  remote: Spread;
  /** Server CPU seconds (all processes) from the first send until the last delivery. */
  serverCpu: number;
  wallSeconds: number;
  deliveriesPerCpuSecond: number;
  cpuPerMessageMs: number;
  driverCpuPercent: number;
  /** Seconds the server processes (all together) / the driver waited for a CPU in the window. */
  serverWait: number;
  driverWait: number;
  telegramSends: number;
  pass: boolean;
  /** Why the step failed, empty when it passed. */
  failure: string;
}

let nextNumber = 1;

/**
 * Sends `rate` messages a second for `seconds` (open loop: each message has a due time, and
 * its latency counts from that time, so a late driver or a slow server both show), then waits
 * until every socket has every message or nothing arrived for 2 s.
 */
export async function runStep(target: Target, fleet: Fleet, plan: StepPlan): Promise<StepResult> {
  const count = Math.max(1, Math.round(plan.rate * plan.seconds));
  const run = new Run(nextNumber, count, plan.conversations);
  nextNumber += count;
  fleet.begin(run);
  const servers = target.servers;
  const serverCpu = () => servers.reduce((sum, s) => sum + s.cpu(), 0);
  // The machine is shared: time spent runnable but not running is the other load's share.
  const serverWait = () => servers.reduce((sum, s) => sum + runQueueWait(s.pid), 0);
  let expected = 0;
  for (let i = 0; i < count; i++) expected += fleet.chats[i % plan.conversations]?.length ?? 0;
  const listExpected = plan.mode === "webhook" ? count * fleet.lists.length : 0;
  const sendsBefore = target.telegramSends();
  let httpErrors = 0;
  const answers: Promise<void>[] = [];

  const fire = (i: number, due: number) => {
    const n = run.base + i;
    const conversation = i % plan.conversations;
    run.sentAt[i] = due;
    if (plan.mode === "webhook") {
      const server = i % servers.length;
      run.from[i] = server;
      answers.push(
        target.post(server, conversation, benchText(n)).then((status) => {
          if (status !== 200) httpErrors++;
        }),
      );
      return;
    }
    const sockets = fleet.chats[conversation] ?? [];
    const socket = sockets[Math.floor(i / plan.conversations) % sockets.length];
    if (!socket) return;
    run.from[i] = socket.server;
    socket.ws.send(
      JSON.stringify({ type: "chat_message", content: benchText(n), client_id: `b${n}` }),
    );
  };

  const cpuBefore = serverCpu();
  const waitBefore = serverWait();
  const driverWaitBefore = runQueueWait(process.pid);
  const driverBefore = process.cpuUsage();
  const start = performance.now();
  let i = 0;
  while (i < count) {
    const now = performance.now();
    while (i < count && start + (i * 1000) / plan.rate <= now) {
      fire(i, start + (i * 1000) / plan.rate);
      i++;
    }
    if (i < count) await sleep(Math.max(0, start + (i * 1000) / plan.rate - performance.now()));
  }
  await Promise.all(answers);
  const sendsWanted = plan.mode === "agent" && target.kind === "fiko" ? count : 0;
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const progress = run.unique + run.listUnique + target.telegramSends();
    const complete =
      run.unique >= expected &&
      run.listUnique >= listExpected &&
      target.telegramSends() - sendsBefore >= sendsWanted;
    if (complete) break;
    if (progress !== last) {
      last = progress;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 2000) break;
    await sleep(5);
  }
  const wall = (performance.now() - start) / 1000;
  const cpu = serverCpu() - cpuBefore;
  const waited = serverWait() - waitBefore;
  const driverWaited = runQueueWait(process.pid) - driverWaitBefore;
  const driver = process.cpuUsage(driverBefore);
  fleet.run = undefined;

  const latencies = [...run.local, ...run.remote];
  const latency = spread(latencies);
  if (process.env.BENCH_TIMELINE === "1") {
    const startedAt = new Date(performance.timeOrigin + start).toISOString();
    const stretches = run.timeline(plan.rate, TIMELINE_STRETCH_MS).join(" ");
    console.log(`  slowest delivery per ${TIMELINE_STRETCH_MS} ms from ${startedAt}: ${stretches}`);
  }
  const lost = expected - run.unique;
  const listLost = listExpected - run.listUnique;
  const problems: string[] = [];
  if (latency.p99 > P99_LIMIT_MS) problems.push(`p99 ${latency.p99.toFixed(1)} ms`);
  if (lost > 0) problems.push(`${lost} lost`);
  if (listLost > 0) problems.push(`${listLost} lost on list sockets`);
  if (run.duplicates + run.listDuplicates > 0)
    problems.push(`${run.duplicates + run.listDuplicates} duplicates`);
  if (run.orderErrors > 0) problems.push(`${run.orderErrors} out of order`);
  if (httpErrors > 0) problems.push(`${httpErrors} HTTP errors`);
  return {
    target: target.kind,
    plan,
    sent: count,
    httpErrors,
    expected,
    delivered: run.unique,
    lost,
    duplicates: run.duplicates + run.listDuplicates,
    orderErrors: run.orderErrors,
    listLost,
    latency,
    latencies,
    local: spread(run.local),
    remote: spread(run.remote),
    serverCpu: cpu,
    wallSeconds: wall,
    deliveriesPerCpuSecond: cpu > 0 ? run.unique / cpu : 0,
    cpuPerMessageMs: (cpu * 1000) / count,
    driverCpuPercent: round(((driver.user + driver.system) / 1e6 / wall) * 100),
    serverWait: waited,
    driverWait: driverWaited,
    telegramSends: target.telegramSends() - sendsBefore,
    pass: problems.length === 0,
    failure: problems.join(", "),
  };
}

/**
 * Several windows of one server as one: counts, CPU and waits added, latency over every
 * delivery of every window. (`local` and `remote` are left out: one process only.)
 */
export function combineSteps(steps: StepResult[]): StepResult {
  const [first] = steps;
  if (first === undefined) throw new Error("no steps to combine");
  const sum = (pick: (step: StepResult) => number) => steps.reduce((t, s) => t + pick(s), 0);
  const latencies = steps.flatMap((step) => step.latencies);
  const sent = sum((s) => s.sent);
  const delivered = sum((s) => s.delivered);
  const serverCpu = sum((s) => s.serverCpu);
  const wallSeconds = sum((s) => s.wallSeconds);
  const failures = steps.filter((s) => !s.pass).map((s) => s.failure);
  return {
    ...first,
    plan: { ...first.plan, seconds: sum((s) => s.plan.seconds) },
    sent,
    httpErrors: sum((s) => s.httpErrors),
    expected: sum((s) => s.expected),
    delivered,
    lost: sum((s) => s.lost),
    duplicates: sum((s) => s.duplicates),
    orderErrors: sum((s) => s.orderErrors),
    listLost: sum((s) => s.listLost),
    latency: spread(latencies),
    latencies,
    local: spread([]),
    remote: spread([]),
    serverCpu,
    wallSeconds,
    deliveriesPerCpuSecond: serverCpu > 0 ? delivered / serverCpu : 0,
    cpuPerMessageMs: (serverCpu * 1000) / sent,
    driverCpuPercent: round(sum((s) => (s.driverCpuPercent * s.wallSeconds) / wallSeconds)),
    serverWait: sum((s) => s.serverWait),
    driverWait: sum((s) => s.driverWait),
    telegramSends: sum((s) => s.telegramSends),
    pass: failures.length === 0,
    failure: failures.join("; "),
  };
}

export function describeStep(step: StepResult): string {
  const { plan, latency } = step;
  return [
    `${step.target.padEnd(7)} ${String(plan.rate).padStart(5)} msg/s x ${plan.seconds} s`,
    `p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(0)} ms`,
    `${step.delivered}/${step.expected} deliveries`,
    `server CPU ${step.serverCpu.toFixed(2)} s (${Math.round(step.deliveriesPerCpuSecond)} deliveries/CPU-s, ${step.cpuPerMessageMs.toFixed(2)} ms/msg)`,
    `driver CPU ${step.driverCpuPercent}%`,
    `waited for a CPU: server ${step.serverWait.toFixed(2)} s, driver ${step.driverWait.toFixed(2)} s`,
    step.pass ? "pass" : `FAIL: ${step.failure}`,
  ].join(" | ");
}

/**
 * Server CPU per second with every socket open and no traffic (timers, leases, polling):
 * the floor under the per-message figures at low rates.
 */
export async function backgroundCpu(target: Target, seconds = 3): Promise<number> {
  const cpu = () => target.servers.reduce((sum, s) => sum + s.cpu(), 0);
  const before = cpu();
  await sleep(seconds * 1000);
  return (cpu() - before) / seconds;
}

export interface MaxSearch {
  steps: StepResult[];
  /** The highest rate that passed before the first failure (0: none passed). */
  highest: number;
  last: StepResult | undefined;
}

/** Steps through `rates` until one fails; the last passing rate is the highest passing rate. */
export async function findMax(
  target: Target,
  fleet: Fleet,
  rates: number[],
  base: Omit<StepPlan, "rate">,
  log: (line: string) => void,
): Promise<MaxSearch> {
  const steps: StepResult[] = [];
  let highest = 0;
  for (const rate of rates) {
    const step = await runStep(target, fleet, { ...base, rate });
    steps.push(step);
    log(describeStep(step));
    if (!step.pass) break;
    highest = rate;
    await sleep(500);
  }
  return { steps, highest, last: steps.find((s) => s.plan.rate === highest) };
}

export const RATES = [100, 200, 350, 500, 700, 1000, 1400, 2000, 2800, 4000, 5600];
/** For PostgreSQL + Redis and for one conversation, which start lower. */
export const LOW_RATES = [25, 50, 100, 200, 300, 450, 700, 1000, 1400, 2000, 2800];
