import type WebSocket from "ws";
import { connect as openSocket } from "../lib/fleet.js";
import type { Options } from "../lib/options.js";
import { type Row, ratio, verdict } from "../lib/rows.js";
import { type Kind, type Log, withTarget } from "../lib/session.js";
import { inParallel, sleep } from "../lib/stats.js";

// Memory per idle chat socket: the server's RSS with no sockets, then with 5,000 and 10,000
// open chat sockets (spread over the conversations, each greeted with its snapshot), after a
// pause to settle; the growth divided by the socket count. The driver holds every socket
// itself (one fd each: 10,000 fits under the 20,000 fd limit of a process).

const SETTLE_MS = 3000;

async function measure(options: Options, kind: Kind, log: Log): Promise<Map<number, number>> {
  return withTarget(options, kind, async (target) => {
    const server = target.servers[0];
    if (!server) throw new Error("no server");
    await sleep(SETTLE_MS);
    const base = server.rss();
    const sockets: WebSocket[] = [];
    const perSocket = new Map<number, number>();
    try {
      for (const level of options.idleLevels) {
        const from = sockets.length;
        const opened = await inParallel(Math.max(0, level - from), 100, (k) =>
          openSocket(target.chatUrl((from + k) % options.conversations, 0), "recent_messages"),
        );
        sockets.push(...opened);
        await sleep(SETTLE_MS);
        const rss = server.rss();
        const bytes = (rss - base) / level;
        perSocket.set(level, bytes);
        log(
          `${kind.padEnd(7)} ${level} idle chat sockets: RSS ${(base / 1048576).toFixed(1)} -> ${(rss / 1048576).toFixed(1)} MiB, ${(bytes / 1024).toFixed(1)} KiB per socket`,
        );
      }
    } finally {
      for (const ws of sockets) ws.terminate();
    }
    return perSocket;
  });
}

export async function idle(options: Options, log: Log): Promise<Row[]> {
  log(`idle: RSS per open chat socket at ${options.idleLevels.join(", ")} sockets`);
  const bare = await measure(options, "bare", log);
  const fiko = await measure(options, "fiko", log);
  const top = Math.max(...options.idleLevels);
  return options.idleLevels.map((level) => {
    const f = fiko.get(level) ?? 0;
    const b = bare.get(level) ?? 0;
    return {
      scenario: "idle",
      figure: `RSS per idle chat socket at ${level.toLocaleString("en-US")} sockets`,
      fiko: `${(f / 1024).toFixed(1)} KiB`,
      bare: `${(b / 1024).toFixed(1)} KiB`,
      ratio: ratio(f, b),
      target: level === top ? "<= 8 KiB" : "",
      result: level === top ? verdict(f <= 8 * 1024) : "",
    };
  });
}
