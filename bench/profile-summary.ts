// Summarises a V8 `.cpuprofile` (written with BENCH_PROFILE_DIR): the busiest functions by
// self time, and self time per source area (our modules by folder, dependencies by package),
// which is how the changes recorded in docs/benchmarks.md were chosen.
//
//   node --import tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 40] [--last 9]
//
// `--last S` keeps only the samples of the profile's last S seconds (a scenario's window ends
// shortly before the server stops), so that start-up and seeding do not blur the figures.
import { readFileSync } from "node:fs";
import { z } from "zod";

const profileShape = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

function area(url: string, name: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return url;
  const src = url.indexOf("/src/");
  if (src >= 0) return url.slice(src + 1, url.lastIndexOf("/")) || url;
  return url;
}

function main(): void {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf("--top");
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 40;
  const lastIndex = args.indexOf("--last");
  const lastMicros = lastIndex >= 0 ? Number(args[lastIndex + 1]) * 1e6 : Number.POSITIVE_INFINITY;
  const values = new Set([topIndex + 1, lastIndex + 1].filter((i) => i > 0));
  const files = args.filter((a, i) => !a.startsWith("--") && !values.has(i));
  for (const file of files) {
    const profile = profileShape.parse(JSON.parse(readFileSync(file, "utf8")));
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const selfByFunction = new Map<string, number>();
    const selfByArea = new Map<string, number>();
    let total = 0;
    let idle = 0;
    const span = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
    let elapsed = 0;
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id);
      const micros = profile.timeDeltas[i] ?? 0;
      elapsed += micros;
      if (!frame || span - elapsed > lastMicros) return;
      if (frame.functionName === "(idle)") {
        idle += micros;
        return;
      }
      total += micros;
      const short = frame.url.split("/").slice(-2).join("/");
      const key = `${frame.functionName || "(anonymous)"} ${short}:${frame.lineNumber + 1}`;
      selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + micros);
      const where = area(frame.url, frame.functionName);
      selfByArea.set(where, (selfByArea.get(where) ?? 0) + micros);
    });
    const percent = (micros: number) => `${((100 * micros) / total).toFixed(1).padStart(5)}%`;
    console.log(`${file}: busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
    console.log("\nself time by area");
    for (const [key, micros] of [...selfByArea].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      console.log(`${percent(micros)}  ${key}`);
    }
    console.log("\nself time by function");
    for (const [key, micros] of [...selfByFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${percent(micros)}  ${key}`);
    }
  }
}

main();
