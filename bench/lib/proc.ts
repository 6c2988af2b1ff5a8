import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

// Server figures come from the kernel, not from the server: the same reading works for Fiko
// and for the bare server, and costs the measured process nothing.

const TICKS_PER_SECOND = 100; // USER_HZ; `getconf CLK_TCK` is 100 on Linux builds we run on

/** User plus system CPU seconds the process used so far (all its threads). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces and parentheses: fields are counted after the last `)`.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Field 3 of proc(5) is index 0 here: utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The 1-minute load average, as the machine is shared and figures move with it. */
export const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

export function machine(): string {
  const list = cpus();
  return `${list.length} x ${list[0]?.model.trim() ?? "unknown CPU"}`;
}

/**
 * Seconds the process's main thread (the event loop) spent runnable but waiting for a CPU
 * (schedstat field 2): how much the machine's other load delayed the server in a window.
 */
export function runQueueWait(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ");
  return Number(fields[1] ?? 0) / 1e9;
}
