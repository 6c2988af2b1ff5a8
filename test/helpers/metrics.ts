import assert from "node:assert/strict";

/** One scrape of `/metrics`: sample values by `name{label="value",…}` (labels sorted). */
export interface Scrape {
  text: string;
  value(name: string, labels?: Record<string, string>): number;
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
}

const key = (name: string, labels: Record<string, string> = {}): string => {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length > 0 ? `${name}{${parts.join(",")}}` : name;
};

export function parseMetrics(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] && type[2]) types.set(type[1], type[2]);
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match?.[1] && match[3], `unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string;
    }
    samples.set(key(match[1], labels), Number(match[3]));
  }
  return {
    text,
    types,
    // An absent sample of a labelled counter is 0: prom-client prints a label set once it moved.
    value: (name, labels) => samples.get(key(name, labels)) ?? 0,
  };
}

/** GET /metrics (with the bearer token when given) and parse it; fails on anything but 200. */
export async function scrape(server: { baseUrl: string }, token?: string): Promise<Scrape> {
  const response = await fetch(`${server.baseUrl}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return parseMetrics(text);
}

/** Differences between two scrapes, for "this event moved that counter by exactly one". */
export function delta(
  before: Scrape,
  after: Scrape,
  name: string,
  labels?: Record<string, string>,
): number {
  return after.value(name, labels) - before.value(name, labels);
}
