import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./server-process.js";

export const SCENARIOS = ["fanout", "agents", "connect", "idle", "cluster"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Options {
  scenarios: ScenarioName[];
  quick: boolean;
  findMax: boolean;
  report: boolean;
  label: string;
  serverCore: string;
  driverCore: string;
  dist: boolean;
  serverRoot: string;
  /** Fan-out rate of the fixed-rate step (msg/s over all conversations). */
  rate: number;
  /** Length of a fixed-rate step. */
  seconds: number;
  /** Length of each find-max step. */
  stepSeconds: number;
  conversations: number;
  perConversation: number;
  agentRate: number;
  connects: number;
  /** fanout (its fixed-rate window), agents, connect: rounds per server, the servers taking turns. */
  rounds: number;
  idleLevels: number[];
  clusterRate: number;
  databaseUrl: string;
  redisUrl: string;
}

export const USAGE = `npm run bench -- [scenario ...] [options]

scenarios: ${SCENARIOS.join(", ")} (default: all)
  --quick              short smoke run (small counts, 2 s steps)
  --find-max           fanout: also step the rate up until p99 > 50 ms, a loss or an HTTP error
  --report             all scenarios with --find-max; rewrites the table in docs/benchmarks.md
  --label TEXT         the table's heading in docs/benchmarks.md (default: branch and commit)
  --rate N             fanout fixed rate, msg/s (350)
  --seconds N          fixed-rate step length (8)
  --step-seconds N     find-max step length (4)
  --conversations N    conversations (50)
  --sockets N          chat sockets per conversation (20)
  --agent-rate N       agents: chat_message frames per second (10)
  --connects N         connect: sockets opened per server in each round (3000)
  --rounds N           fanout window, agents, connect: rounds per server, in turns (4)
  --idle LIST          idle: socket counts to measure at (5000,10000)
  --cluster-rate N     cluster: rate of the latency step (50)
  --server-cpu N       core of the server processes (0); --driver-cpu N: of this driver (1)
  --dist               run dist/src/main.js (npm run build first) instead of src/main.ts via tsx
  --server-root DIR    measure the server of another checkout (a worktree), this one by default
  DATABASE_URL, REDIS_URL: the cluster's PostgreSQL (a fresh database is made and dropped
  beside it) and Redis (a fresh key prefix); defaults 127.0.0.1.`;

export function parseOptions(argv: string[]): Options | undefined {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      "find-max": { type: "boolean", default: false },
      report: { type: "boolean", default: false },
      label: { type: "string" },
      rate: { type: "string" },
      seconds: { type: "string" },
      "step-seconds": { type: "string" },
      conversations: { type: "string", default: "50" },
      sockets: { type: "string", default: "20" },
      "agent-rate": { type: "string", default: "10" },
      connects: { type: "string" },
      rounds: { type: "string" },
      idle: { type: "string" },
      "cluster-rate": { type: "string", default: "50" },
      "server-cpu": { type: "string", default: "0" },
      "driver-cpu": { type: "string", default: "1" },
      dist: { type: "boolean", default: false },
      "server-root": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return undefined;
  const unknown = positionals.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`unknown scenario: ${unknown.join(", ")}\n\n${USAGE}`);
  const quick = values.quick;
  const number = (value: string | undefined, fallback: number) => {
    const parsed = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`not a positive number: ${value}`);
    return parsed;
  };
  const report = values.report;
  return {
    scenarios:
      report || positionals.length === 0 ? [...SCENARIOS] : (positionals as ScenarioName[]),
    quick,
    findMax: values["find-max"] || report,
    report,
    label: values.label ?? "",
    serverCore: values["server-cpu"],
    driverCore: values["driver-cpu"],
    dist: values.dist,
    serverRoot: resolve(values["server-root"] ?? ROOT),
    rate: number(values.rate, 350),
    seconds: number(values.seconds, quick ? 3 : 8),
    stepSeconds: number(values["step-seconds"], quick ? 2 : 4),
    conversations: number(values.conversations, 50),
    perConversation: number(values.sockets, 20),
    agentRate: number(values["agent-rate"], 10),
    connects: number(values.connects, quick ? 300 : 3000),
    rounds: Math.max(1, Math.round(number(values.rounds, quick ? 2 : 4))),
    idleLevels: (values.idle ?? (quick ? "500,1000" : "5000,10000"))
      .split(",")
      .map((v) => number(v, 0)),
    clusterRate: number(values["cluster-rate"], 50),
    databaseUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  };
}
