import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@redis/client";
import pg from "pg";

// Services and server processes for the bus and cluster suites. A suite whose service is not
// reachable prints one `skipped:` line and declares no tests, unless REQUIRE_SERVICES=1 (CI),
// where it fails instead.

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Any database of the server: the suites create and drop their own database beside it. */
export const POSTGRES_ADMIN_URL =
  process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

// The same server as POSTGRES_ADMIN_URL: one reachability answer serves every suite.
export { postgresReachable } from "./stores.js";

export const servicesRequired = (): boolean => process.env.REQUIRE_SERVICES === "1";

export function addressOf(url: string, defaultPort: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || defaultPort}`;
  } catch {
    return url;
  }
}

const reported = new Set<string>();

/** One line per skipped suite; the test runner shows it as a `#` comment. */
export function reportSkip(suite: string, why: string): void {
  if (reported.has(suite)) return;
  reported.add(suite);
  console.log(`skipped: ${suite} (${why})`);
}

/** Whether the Redis at `url` answers PING within `connectTimeoutMs`. */
async function answersPing(url: string, connectTimeoutMs: number): Promise<boolean> {
  const client = createClient({
    url,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: false },
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

let redisAnswer: Promise<boolean> | undefined;

/** Whether Redis answers PING at REDIS_URL; asked once per process. */
export function redisReachable(): Promise<boolean> {
  redisAnswer ??= answersPing(REDIS_URL, 1500);
  return redisAnswer;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new empty database beside POSTGRES_ADMIN_URL's, for the processes of one suite. */
export async function freshDatabase(prefix = "fiko_cluster"): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    // `with (force)` ends connections a killed server process may have left behind.
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  };
}

/** A port that was free a moment ago (the server does not report PORT=0 back). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 10 ms until it is true; throws after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last log lines (pino JSON), for failure messages. */
  readonly logTail: string[];
  /** Log lines that match `msg`, parsed. */
  logged(msg: string): Array<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): void;
}

// Only catches a server that never comes up. Each process compiles the TypeScript sources
// through tsx as it starts; three at once on a busy 2-core machine were measured at up to 28 s,
// and a 30 s bound failed the cluster suite's start about one run in six.
const READY_TIMEOUT_MS = 120_000;

/**
 * `node --import tsx src/main.ts` with `env`, on a port picked here; resolves when the process
 * logged "fiko chat ready". The caller kills it (see `stopAll`).
 */
export async function startServerProcess(
  name: string,
  env: Record<string, string>,
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: new URL("../..", import.meta.url).pathname,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "info",
      // Bursts of hundreds of frames from one socket are the point of these tests.
      WS_RATE_LIMIT: "0",
      // Every run registers users from 127.0.0.1 on the shared Redis: limits are switched on
      // only by the suites that check them.
      SIGNIN_FAILURE_LIMIT: "0",
      REGISTRATION_RATE_LIMIT: "0",
      REST_RATE_LIMIT: "0",
      WS_CONNECT_RATE_LIMIT: "0",
      MAX_SOCKETS_PER_USER: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // A test run that dies without its after hooks must not leave servers behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const logTail: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  let onReady: (() => void) | undefined;
  const remember = (line: string) => {
    logTail.push(line);
    if (logTail.length > 40) logTail.shift();
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      lines.push(parsed);
      if (parsed.msg === "fiko chat ready") onReady?.();
    } catch {
      // Not pino JSON (a crash trace): kept in the tail only.
    }
  };
  if (child.stdout) createInterface({ input: child.stdout }).on("line", remember);
  if (child.stderr) createInterface({ input: child.stderr }).on("line", remember);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => "ready" as const),
    exited.then(() => "exited" as const),
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), READY_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== "ready") {
    child.kill("SIGKILL");
    throw new Error(`server ${name} did not start (${outcome}):\n${logTail.join("\n")}`);
  }
  return {
    name,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    child,
    exited,
    logTail,
    logged: (msg) => lines.filter((line) => line.msg === msg),
    kill: (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Kills every process still running and waits for them to be gone. */
export async function stopAll(processes: Iterable<ServerProcess>): Promise<void> {
  const waits: Array<Promise<unknown>> = [];
  for (const proc of processes) {
    proc.kill("SIGKILL");
    // Unreferenced: a fallback timer must not keep the test process alive after the exit.
    waits.push(Promise.race([proc.exited, sleep(5000, undefined, { ref: false })]));
  }
  await Promise.all(waits);
}

/** Whether a `redis-server` binary is on the PATH. */
export const redisServerInstalled = (): boolean =>
  spawnSync("redis-server", ["--version"]).status === 0;

/**
 * A redis-server of the suite's own on a free port, so that a test can restart it without
 * touching the Redis other suites share. Undefined when no `redis-server` is on the PATH.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), "fiko-redis-"));

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  /** `extraArgs` go to redis-server as they are (`["--cluster-enabled", "yes"]`). */
  static async start(extraArgs: string[] = []): Promise<PrivateRedis | undefined> {
    if (!redisServerInstalled()) return undefined;
    const redis = new PrivateRedis(await freePort(), extraArgs);
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Starts the server (again) on the same port and waits until it answers PING. */
  async up(): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
        ...this.extraArgs,
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    const kill = () => child.kill("SIGKILL");
    process.once("exit", kill);
    child.once("exit", () => process.off("exit", kill));
    await waitFor(() => answersPing(this.url, 500), "private redis-server up", 10_000);
  }

  /** Shuts the server down; with `--save ""` it keeps nothing, as after a crash. */
  async down(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // SIGTERM is a SHUTDOWN for redis-server; with `--save ""` it writes nothing.
    child.kill("SIGTERM");
    // Unreferenced: a fallback timer must not keep the test process alive after the exit.
    await Promise.race([exited, sleep(5000, undefined, { ref: false })]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
