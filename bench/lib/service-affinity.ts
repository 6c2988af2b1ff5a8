import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { adminQuery, withRedis } from "./services.js";

// The cluster scenario keeps the server core for the two Fiko processes. PostgreSQL and Redis
// are not what is measured: left free, Linux wakes a backend on the core of the process that
// woke it, so they ran on the server core and took its time (the servers waited for a CPU for
// 21-31% of a 50 msg/s window). When they run on this machine, they share the driver's core
// for the scenario and get their own affinity back afterwards.

/** Restores what `pinServices` changed. */
export type Unpin = () => void;

function parentOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^PPid:\s+(\d+)$/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `pid` and its children (PostgreSQL's backends and helpers are the postmaster's children). */
function withChildren(pid: number): number[] {
  const pids = [pid];
  for (const entry of readdirSync("/proc")) {
    const child = Number(entry);
    if (Number.isInteger(child) && parentOf(child) === pid) pids.push(child);
  }
  return pids;
}

function affinityOf(pid: number): string {
  const out = execFileSync("taskset", ["-p", String(pid)], { encoding: "utf8" });
  const mask = /mask:\s*([0-9a-f]+)/.exec(out)?.[1];
  if (!mask) throw new Error(`no affinity in: ${out}`);
  return mask;
}

function setAffinity(pid: number, mask: string, asList: boolean): void {
  // A backend may end between the listing and this call: not an error.
  try {
    execFileSync("taskset", ["-a", asList ? "-cp" : "-p", mask, String(pid)], { stdio: "ignore" });
  } catch {}
}

// The postmaster is found as the parent of the checkpointer, which lives as long as the server.
// Not as the parent of this query's own backend: that backend exits when the query's
// connection closes, often before its /proc entry was read, and PostgreSQL then stayed on the
// server core for that run.
async function postmasterPid(databaseUrl: string): Promise<number | undefined> {
  const rows = await adminQuery<{ pid: number }>(
    databaseUrl,
    "select pid from pg_stat_activity where backend_type = 'checkpointer'",
  );
  const checkpointer = rows[0]?.pid;
  return checkpointer === undefined ? undefined : parentOf(checkpointer);
}

async function redisPid(redisUrl: string): Promise<number | undefined> {
  const info = await withRedis(redisUrl, async (client) => String(await client.info("server")));
  const match = /^process_id:(\d+)/m.exec(info);
  return match ? Number(match[1]) : undefined;
}

const isLocal = (url: string) =>
  ["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname);

/**
 * Moves a local PostgreSQL (the postmaster, so that new backends follow) and a local Redis to
 * `core`; returns how to undo it, and what it did, for the log. Services on other hosts, or
 * that this user may not move, are left alone.
 */
export async function pinServices(
  databaseUrl: string,
  redisUrl: string,
  core: string,
): Promise<{ unpin: Unpin; moved: string }> {
  const roots: [string, number | undefined][] = [
    ["PostgreSQL", isLocal(databaseUrl) ? await postmasterPid(databaseUrl) : undefined],
    ["Redis", isLocal(redisUrl) ? await redisPid(redisUrl) : undefined],
  ];
  const saved: [number, string][] = [];
  const moved: string[] = [];
  for (const [name, pid] of roots) {
    if (pid === undefined || !existsSync(`/proc/${pid}`)) continue;
    try {
      saved.push([pid, affinityOf(pid)]);
    } catch {
      continue;
    }
    for (const each of withChildren(pid)) setAffinity(each, core, true);
    moved.push(name);
  }
  return {
    moved: moved.length > 0 ? `${moved.join(" and ")} on core ${core}` : "services not moved",
    // The backends started in between inherited the pinned mask: they get the old one too.
    unpin: () => {
      for (const [pid, mask] of saved) {
        for (const each of withChildren(pid)) setAffinity(each, mask, false);
      }
    },
  };
}
