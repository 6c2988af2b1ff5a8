import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { cpuSeconds, rssBytes } from "./proc.js";
import { sleep } from "./stats.js";

/** The repository root (the server runs from there, as `npm start` does). */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A server under test: a child process pinned to one core, found by its pid. */
export interface ServerProcess {
  readonly pid: number;
  readonly baseUrl: string;
  readonly wsUrl: string;
  cpu(): number;
  rss(): number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/**
 * Starts `node <args>` under `taskset -c <core>` (taskset execs node, so the pid is the
 * server's) with only the given environment, and waits until `GET /healthz` answers.
 */
export async function startProcess(options: {
  args: string[];
  env: Record<string, string>;
  core: string;
  port: number;
  /** The checkout to run in (the repository root unless told). */
  cwd?: string;
}): Promise<ServerProcess> {
  const child = spawn("taskset", ["-c", options.core, process.execPath, ...options.args], {
    cwd: options.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let ready = false;
  const keep = (chunk: Buffer) => {
    // Only the tail matters (a failed start); warnings during a run go to our stderr.
    output = (output + chunk.toString("utf8")).slice(-4000);
    if (ready) process.stderr.write(`[server ${child.pid}] ${chunk.toString("utf8")}`);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error("server did not start");
  const baseUrl = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited at start:\n${output}`);
    if (Date.now() > deadline) {
      await stopChild(child, exited);
      throw new Error(`server not ready after 60 s:\n${output}`);
    }
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  ready = true;
  return {
    pid,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${options.port}`,
    cpu: () => cpuSeconds(pid),
    rss: () => rssBytes(pid),
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}
