// Run by churn.test.ts as `node --expose-gc --import tsx test/ops/churn-run.ts`: sockets open and
// close in a loop against a real server in this process, then the heap (after GC), timers and
// listeners are compared with a baseline. Prints one JSON line of figures.
import { ingest, registerUser, startServer } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

const SOCKETS = Number(process.env.CHURN_SOCKETS ?? 1000);
const SECONDS = Number(process.env.CHURN_SECONDS ?? 0);
const BATCH = 25;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

async function settleHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().heapUsed;
}

const resources = () => {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
};

let warnings = 0;
process.on("warning", () => {
  warnings++;
});

const server = await startServer({
  env: {
    MAX_SOCKETS_PER_USER: "200",
    WS_CONNECT_RATE_LIMIT: "0",
    WS_PING_INTERVAL_MS: "60000",
    // Lingering groups are part of the churn: each must be let go, its timer with it.
    WS_GROUP_LINGER_MS: "200",
  },
});
const user = await registerUser(server);
const { conversation } = await ingest(server, user.id, "churn");
const chat = `${server.wsUrl}/ws/chat/${conversation.id}/?token=${user.access}`;
const list = `${server.wsUrl}/ws/conversations/?token=${user.access}`;
const http = server.server.app.server;

async function cycle(count: number): Promise<void> {
  for (let done = 0; done < count; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - done) }, async (_, i) => {
      const client = await WsClient.connect(i % 2 === 0 ? chat : list);
      await client.next(i % 2 === 0 ? "recent_messages" : "conversations_list");
      if (i % 5 === 0) client.socket.terminate();
      else client.socket.close();
      await client.closed;
    });
    await Promise.all(batch);
  }
}

async function quiet(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (server.server.gateway.socketCount > 0 || server.server.gateway.groupCount > 0) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Warm-up: code paths compiled, pools and caches at their working size.
await cycle(200);
await quiet();
const baseline = {
  heap: await settleHeap(),
  resources: resources(),
  upgradeListeners: http.listenerCount("upgrade"),
  connectionListeners: http.listenerCount("connection"),
};

const started = Date.now();
let opened = 0;
do {
  await cycle(SOCKETS);
  opened += SOCKETS;
} while (Date.now() - started < SECONDS * 1000);
const elapsedMs = Date.now() - started;
await quiet();
const afterHeap = await settleHeap();

console.log(
  JSON.stringify({
    opened,
    elapsedMs,
    heapBaseline: baseline.heap,
    heapAfter: afterHeap,
    heapGrowth: afterHeap - baseline.heap,
    sockets: server.server.gateway.socketCount,
    groups: server.server.gateway.groupCount,
    resourcesBefore: baseline.resources,
    resourcesAfter: resources(),
    upgradeListeners: [baseline.upgradeListeners, http.listenerCount("upgrade")],
    connectionListeners: [baseline.connectionListeners, http.listenerCount("connection")],
    warnings,
  }),
);
await server.close();
