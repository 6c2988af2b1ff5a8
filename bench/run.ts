// Fan-out scenario: one conversation, many agent sockets, a burst of messages from several
// writers. Reports throughput (stored messages per second) and the delay from send to arrival
// at every socket (median, p95, p99). Runs against a real server in this process on SQLite;
// set DATABASE_URL / REDIS_URL to measure the other store and bus.
//
//   npm run bench -- --sockets 50 --messages 2000 --writers 4
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { createServer } from "../src/server.js";

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "50" },
    messages: { type: "string", default: "2000" },
    writers: { type: "string", default: "4" },
  },
});
const socketCount = Number(values.sockets);
const messageCount = Number(values.messages);
const writerCount = Number(values.writers);

const dataDir = mkdtempSync(join(tmpdir(), "fiko-bench-"));
const config = loadConfig({
  ...process.env,
  PORT: "0",
  HOST: "127.0.0.1",
  SQLITE_PATH: join(dataDir, "bench.sqlite"),
  JWT_SECRET: randomBytes(24).toString("hex"),
  LOG_LEVEL: "silent",
  WS_RATE_LIMIT: "0",
});
const server = await createServer(config, createLogger("silent"), { platforms: false });
const port = await server.listen();

const user = await server.accounts.register({
  username: `bench_${randomBytes(3).toString("hex")}`,
  password: "benchmark-password",
  firstName: "Bench",
  lastName: "",
});
const token = await server.accounts.tokens.sign(user.id, "access");
const channel = await server.store.channels.create({
  ownerId: user.id,
  platform: "telegram",
  name: "bench_bot",
  externalId: randomBytes(6).toString("hex"),
  credentials: {},
  mode: "webhook",
});
const { conversation } = await server.chat.ingestCustomerMessage({
  channelId: channel.id,
  ownerId: user.id,
  source: "telegram",
  customerExternalId: "1",
  firstName: "Load",
  lastName: "Test",
  username: null,
  externalMessageId: "0",
  content: "hello",
});

const sentAt = new Map<string, number>();
const delays: number[] = [];
let received = 0;
const expected = socketCount * messageCount;
let finish: () => void = () => {};
const done = new Promise<void>((resolve) => {
  finish = resolve;
});

const openSocket = () =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/chat/${conversation.id}/?token=${token}`);
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as { type: string; message?: { client_id: string } };
      if (frame.type === "recent_messages") resolve(ws);
      if (frame.type !== "chat_message" || !frame.message) return;
      const started = sentAt.get(frame.message.client_id);
      if (started !== undefined) delays.push(performance.now() - started);
      if (++received === expected) finish();
    });
    ws.on("error", reject);
  });

const sockets = await Promise.all(Array.from({ length: socketCount }, openSocket));
const writers = sockets.slice(0, writerCount);
const started = performance.now();
for (let i = 0; i < messageCount; i++) {
  const clientId = `m${i}`;
  sentAt.set(clientId, performance.now());
  writers[i % writers.length]?.send(
    JSON.stringify({ type: "chat_message", content: `message ${i}`, client_id: clientId }),
  );
  // Yield now and then so that sends interleave with deliveries, as with real clients.
  if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
}
await done;
const elapsed = performance.now() - started;

delays.sort((a, b) => a - b);
const pct = (p: number) =>
  delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? 0;
console.log(
  JSON.stringify(
    {
      store: config.databaseUrl ? "postgres" : "sqlite",
      bus: config.redisUrl ? "redis" : "local",
      sockets: socketCount,
      messages: messageCount,
      writers: writerCount,
      frames_delivered: received,
      seconds: +(elapsed / 1000).toFixed(2),
      messages_per_second: Math.round(messageCount / (elapsed / 1000)),
      frames_per_second: Math.round(received / (elapsed / 1000)),
      delay_ms: { p50: +pct(50).toFixed(1), p95: +pct(95).toFixed(1), p99: +pct(99).toFixed(1) },
    },
    null,
    2,
  ),
);
for (const ws of sockets) ws.close();
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
