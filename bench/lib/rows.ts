import type { StepResult } from "./load-step.js";

/** One line of the figures table: Fiko's figure next to the bare server's and the target. */
export interface Row {
  scenario: string;
  figure: string;
  fiko: string;
  bare: string;
  ratio: string;
  target: string;
  /** `pass`, `miss`, or empty for figures without a target. */
  result: "pass" | "miss" | "";
}

export const verdict = (ok: boolean): "pass" | "miss" => (ok ? "pass" : "miss");

export const ratio = (fiko: number, bare: number): string =>
  bare > 0 ? `${(fiko / bare).toFixed(2)}x` : "n/a";

export const thousands = (value: number): string => Math.round(value).toLocaleString("en-US");

/** How long the servers waited for a CPU in the window: the shared machine's noise, shown. */
export function waitRow(scenario: string, rate: number, fiko: StepResult, bare: StepResult): Row {
  const share = (step: StepResult) =>
    `${step.serverWait.toFixed(2)} s of ${step.wallSeconds.toFixed(1)} s (${Math.round((step.serverWait / step.wallSeconds) * 100)}%)`;
  return {
    scenario,
    figure: `server time waiting for a CPU (run queue) in the ${rate} msg/s window`,
    fiko: share(fiko),
    bare: share(bare),
    ratio: "",
    target: "",
    result: "",
  };
}
