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
