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
  /** A file in the line: its name, and where the customer page can show it. */
  file?: { name: string; url: string; image: boolean };
}
const written = new Map<number, Line[]>();

// The Bot API methods that carry a reply to the customer: text, or a file with a caption.
const REPLY_METHODS = [
  "sendMessage",
  "sendPhoto",
  "sendVideo",
  "sendAudio",
  "sendVoice",
  "sendDocument",
];

function transcript(telegram: FakeTelegram, name: string): Line[] {
  const id = customerId(name);
  const replies: Line[] = telegram.calls.flatMap((c, index): Line[] => {
    if (!REPLY_METHODS.includes(c.method) || c.token !== BOT_TOKEN) return [];
    if (String(c.body.chat_id) !== String(id)) return [];
    const text = String(c.body.text ?? c.body.caption ?? "");
    if (!c.upload) return [{ from: "bot", text, at: c.at }];
    const file = {
      name: c.upload.fileName,
      url: `/sent/${index}`,
      image: c.method === "sendPhoto",
    };
    return [{ from: "bot", text, at: c.at, file }];
  });
  return [...(written.get(id) ?? []), ...replies].sort((a, b) => a.at - b.at);
}

// Files a customer sends through the demo page: at most this big, like a phone upload.
const MAX_DEMO_FILE = 10 * 1024 * 1024;

/** The message fields of a customer's file: a photo for images, else a document. */
function fileFields(
  telegram: FakeTelegram,
  file: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const bytes = Buffer.from(String(file.data ?? ""), "base64");
  if (bytes.length === 0 || bytes.length > MAX_DEMO_FILE) return undefined;
  const fileId = `demo-file-${nextId()}`;
  telegram.addFile(fileId, bytes);
  const type = String(file.type ?? "");
  if (type.startsWith("image/") && type !== "image/svg+xml") {
    const size = { width: Number(file.width) || 0, height: Number(file.height) || 0 };
    return { photo: [{ file_id: fileId, file_unique_id: fileId, ...size }] };
  }
  return {
    document: {
      file_id: fileId,
      file_unique_id: fileId,
      file_name: String(file.name ?? "file"),
      mime_type: type || undefined,
      file_size: bytes.length,
    },
  };
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
    } else if (req.method === "GET" && url.pathname.startsWith("/sent/")) {
      // A file the inbox sent to a customer, as the customer's app would show it.
      const upload = telegram.calls[Number(url.pathname.slice("/sent/".length))]?.upload;
      if (!upload) return json(404, { ok: false });
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "x-content-type-options": "nosniff",
      });
      res.end(upload.bytes);
    } else if (req.method === "GET" && url.pathname === "/messages") {
      json(200, transcript(telegram, url.searchParams.get("name") ?? ""));
    } else if (req.method === "POST" && url.pathname === "/send") {
      readJson(req).then(
        (body) => {
          const name = String(body.name ?? "").trim() || "Jamie Rivera";
          const text = String(body.text ?? "").slice(0, 4096);
          const file =
            typeof body.file === "object" && body.file !== null
              ? fileFields(telegram, body.file as Record<string, unknown>)
              : undefined;
          if (body.file && !file) return json(413, { ok: false });
          const content = file ? { ...file, ...(text ? { caption: text } : {}) } : { text };
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
              ...content,
            },
          } as Update;
          telegram.pushUpdate(BOT_TOKEN, update);
          const fileName = file
            ? String((body.file as Record<string, unknown>).name ?? "file")
            : "";
          const line: Line = {
            from: "me",
            text: file ? `📎 ${fileName}${text ? ` · ${text}` : ""}` : text,
            at: Date.now(),
          };
          written.set(id, [...(written.get(id) ?? []), line]);
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
      FILES_DIR: process.env.FILES_DIR ?? join(dirname(sqlitePath), "files"),
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
     (your messages and files appear in the inbox; replies from the inbox appear there)

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
