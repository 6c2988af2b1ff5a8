import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import type { Update } from "grammy/types";
import { FakeTelegram } from "../test/helpers/fake-telegram.js";
import { customerPage } from "./demo-customer-page.js";

// `npm run demo`: the real server plus a stand-in for Telegram on this machine, so that the
// inbox can be tried without a real bot. A small page plays the customer: what you write there
// arrives in the inbox, and your replies appear there.

const ROOT = join(import.meta.dirname, "..");
const PORT = process.env.PORT ?? "8000";
const CUSTOMER_PORT = Number(process.env.DEMO_CUSTOMER_PORT ?? 8001);
// Fixed, so that a bot connected in an earlier demo run keeps working in the next one.
const BOT_TOKEN = "7000000001:DemoFikoChatLocalBotToken0123456789";
const BOT_NAME = "fiko_demo_bot";

// Update and message ids must grow across runs (the server remembers the last update it read).
let counter = 0;
const nextId = () => Math.floor(Date.now() / 1000 - 1_700_000_000) * 10 + (counter++ % 10);

const customerId = (name: string) =>
  100_000 + (createHash("sha256").update(name).digest().readUInt32BE(0) % 900_000_000);

interface Line {
  from: "me" | "bot";
  text: string;
  at: number;
}
const written = new Map<number, Line[]>();

function transcript(telegram: FakeTelegram, name: string): Line[] {
  const id = customerId(name);
  const replies: Line[] = telegram
    .callsTo("sendMessage")
    .filter((c) => c.token === BOT_TOKEN && String(c.body.chat_id) === String(id))
    .map((c) => ({ from: "bot", text: String(c.body.text), at: c.at }));
  return [...(written.get(id) ?? []), ...replies].sort((a, b) => a.at - b.at);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
}

function customerSite(telegram: FakeTelegram) {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.method === "GET" && url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(customerPage(BOT_NAME));
    } else if (req.method === "GET" && url.pathname === "/messages") {
      json(200, transcript(telegram, url.searchParams.get("name") ?? ""));
    } else if (req.method === "POST" && url.pathname === "/send") {
      readJson(req).then(
        (body) => {
          const name = String(body.name ?? "").trim() || "Jamie Rivera";
          const text = String(body.text ?? "").slice(0, 4096);
          const [first = name, ...rest] = name.split(/\s+/);
          const id = customerId(name);
          const from = { id, is_bot: false, first_name: first, last_name: rest.join(" ") };
          const update = {
            update_id: nextId(),
            message: {
              message_id: nextId(),
              date: Math.floor(Date.now() / 1000),
              chat: { id, type: "private", first_name: first, last_name: rest.join(" ") },
              from,
              text,
            },
          } as Update;
          telegram.pushUpdate(BOT_TOKEN, update);
          written.set(id, [...(written.get(id) ?? []), { from: "me", text, at: Date.now() }]);
          json(202, { ok: true });
        },
        () => json(400, { ok: false }),
      );
    } else {
      json(404, { ok: false });
    }
  });
}

async function main() {
  const telegram = await FakeTelegram.start();
  telegram.addBot(BOT_TOKEN, { first_name: "Fiko Demo", username: BOT_NAME });
  const site = customerSite(telegram);
  await new Promise<void>((resolve) => site.listen(CUSTOMER_PORT, "127.0.0.1", resolve));

  const sqlitePath = process.env.SQLITE_PATH ?? "./data/demo/fiko.sqlite";
  const server: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    stdio: "inherit",
    env: {
      ...process.env,
      PORT,
      HOST: process.env.HOST ?? "127.0.0.1",
      SQLITE_PATH: sqlitePath,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    },
  });

  console.log(`
  Fiko Chat demo
  ──────────────
  1. Open the inbox:            http://localhost:${PORT}/   and create an account
  2. Channels → Bot token:      ${BOT_TOKEN}
     then press "Connect Telegram"
  3. Write as a customer:       http://localhost:${CUSTOMER_PORT}/
     (your messages appear in the inbox; replies from the inbox appear there)

  Data is kept in ${dirname(sqlitePath)}. Ctrl+C stops everything.
`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  server.on("exit", (code) => {
    site.close();
    telegram.close().finally(() => process.exit(stopping ? 0 : (code ?? 1)));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
