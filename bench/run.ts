// The benchmark suite (not tests: it measures, prints, and with --report rewrites the figures
// table of docs/benchmarks.md). See docs/benchmarks.md for the method.
//
//   npm run bench -- fanout --find-max
//   npm run bench -- --report --label "before (main)"
import { execFileSync } from "node:child_process";
import { relative } from "node:path";
import { type Options, parseOptions, type ScenarioName, USAGE } from "./lib/options.js";
import { loadAverage, machine } from "./lib/proc.js";
import { block, DOC, defaultLabel, srcCommit, writeReport } from "./lib/report.js";
import type { Row } from "./lib/rows.js";
import { ROOT } from "./lib/server-process.js";
import type { Log } from "./lib/session.js";
import { agents } from "./scenarios/agents.js";
import { cluster } from "./scenarios/cluster.js";
import { connect } from "./scenarios/connect.js";
import { fanout } from "./scenarios/fanout.js";
import { idle } from "./scenarios/idle.js";

const scenarios: Record<ScenarioName, (options: Options, log: Log) => Promise<Row[]>> = {
  fanout,
  agents,
  connect,
  idle,
  cluster,
};

const options = parseOptions(process.argv.slice(2));
if (!options) {
  console.log(USAGE);
  process.exit(0);
}
// This driver on its own core, every thread of it (the servers get theirs in server-process.ts).
execFileSync("taskset", ["-a", "-cp", options.driverCore, String(process.pid)], {
  stdio: "ignore",
});

const log: Log = (line) => console.log(line);
const startedAt = new Date();
const loadBefore = loadAverage();
log(`fiko bench: ${options.scenarios.join(", ")}${options.quick ? " (quick)" : ""}; ${machine()}`);
log(
  `server on core ${options.serverCore}, driver on core ${options.driverCore}; load average ${loadBefore}`,
);

const rows: Row[] = [];
for (const name of options.scenarios) {
  const began = performance.now();
  log(`\n== ${name} (load average ${loadAverage()})`);
  const result = await scenarios[name](options, log);
  rows.push(...result);
  for (const row of result) {
    log(
      `  ${row.figure}: Fiko ${row.fiko}, bare ${row.bare}${row.ratio ? ` (${row.ratio})` : ""}${row.target ? `, target ${row.target}: ${row.result}` : ""}`,
    );
  }
  log(`   (${((performance.now() - began) / 1000).toFixed(0)} s)`);
}
const loadAfter = loadAverage();
log(`\nload average at the end: ${loadAfter}`);

/** How the report names the measured checkout: no machine's absolute path in the document. */
function checkoutName(root: string): string {
  return relative(ROOT, root) === "" ? "this checkout" : `the checkout ${relative(ROOT, root)}`;
}

if (options.report) {
  const label = options.label || defaultLabel();
  const context = [
    `${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC, ${defaultLabel()}, Node ${process.version}, ${machine()}`,
    `server on core ${options.serverCore}, driver on core ${options.driverCore}; load average (1, 5, 15 min) ${loadBefore} before, ${loadAfter} after`,
    `src/ of ${checkoutName(options.serverRoot)} at ${srcCommit(options.serverRoot)} (the last commit that changed it)`,
    `command: \`npm run bench -- ${process.argv
      .slice(2)
      .map((arg) => (/\s/.test(arg) ? JSON.stringify(arg) : arg))
      .join(" ")}\``,
  ];
  writeReport(label, block(label, context, rows));
  log(`wrote the "${label}" table to ${DOC}`);
}
