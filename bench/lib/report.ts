import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Row } from "./rows.js";
import { ROOT } from "./server-process.js";

// docs/benchmarks.md keeps one block per label (`before (main)`, `after (perf)`, ...) between
// the markers; a run replaces its own label's block and leaves the others.

export const BEGIN = "<!-- bench:results:begin -->";
export const END = "<!-- bench:results:end -->";
export const DOC = join(ROOT, "docs", "benchmarks.md");

function git(...args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

export const defaultLabel = (): string =>
  `${git("rev-parse", "--abbrev-ref", "HEAD")} at ${git("rev-parse", "--short", "HEAD")}`;

export const srcCommit = (root: string): string =>
  git("-C", root, "log", "-1", "--format=%h %s", "--", "src");

export function table(rows: Row[]): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const lines = [
    "| scenario | figure | Fiko | bare `ws` | Fiko / bare | target | result |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${[r.scenario, r.figure, r.fiko, r.bare, r.ratio, r.target, r.result].map(cell).join(" | ")} |`,
    ),
  ];
  return lines.join("\n");
}

export function block(label: string, context: string[], rows: Row[]): string {
  return [`### ${label}`, "", ...context.map((line) => `- ${line}`), "", table(rows), ""].join(
    "\n",
  );
}

/** Replaces (or appends) the block headed `### label` between the markers. */
export function writeReport(label: string, text: string): void {
  const doc = readFileSync(DOC, "utf8");
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${DOC} lacks the ${BEGIN} / ${END} markers`);
  const inside = doc.slice(begin + BEGIN.length, end);
  const blocks = inside
    .split(/\n(?=### )/)
    .map((b) => b.trim())
    .filter((b) => b.startsWith("### "));
  const heading = `### ${label}`;
  const at = blocks.findIndex((b) => b.split("\n")[0] === heading);
  if (at >= 0) blocks[at] = text.trim();
  else blocks.push(text.trim());
  const next = `${doc.slice(0, begin + BEGIN.length)}\n\n${blocks.join("\n\n")}\n\n${doc.slice(end)}`;
  writeFileSync(DOC, next);
}
