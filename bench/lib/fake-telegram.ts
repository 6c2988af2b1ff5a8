import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The few Bot API methods the server calls, answered at once: `getMe` and `setWebhook` when a
 * channel is connected, `sendMessage` from the outbox, `getUserProfilePhotos` for a new
 * customer. Any token of the right shape is a bot. Runs in the driver process.
 */
export class BenchTelegram {
  /** The `secret_token` of the last `setWebhook`: the webhook header value. */
  secret = "";
  sendMessages = 0;
  private nextMessageId = 1;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly apiRoot: string,
  ) {}

  static async start(): Promise<BenchTelegram> {
    let fake: BenchTelegram | undefined;
    const server = createServer((req, res) => {
      if (fake) fake.handle(req, res);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new BenchTelegram(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const match = (req.url ?? "").match(/^\/bot(\d+):[^/]+\/([A-Za-z]+)$/);
      if (!match) return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
      const botId = Number(match[1]);
      const raw = Buffer.concat(chunks).toString("utf8");
      const body: Record<string, unknown> = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      switch (match[2]) {
        case "getMe":
          return reply(res, 200, {
            ok: true,
            result: {
              id: botId,
              is_bot: true,
              first_name: "Bench",
              username: `bench_${botId}_bot`,
            },
          });
        case "setWebhook":
          this.secret = String(body.secret_token ?? "");
          return reply(res, 200, { ok: true, result: true });
        case "deleteWebhook":
        case "sendChatAction":
          return reply(res, 200, { ok: true, result: true });
        case "getUserProfilePhotos":
          return reply(res, 200, { ok: true, result: { total_count: 0, photos: [] } });
        case "sendMessage":
          this.sendMessages++;
          return reply(res, 200, {
            ok: true,
            result: {
              message_id: this.nextMessageId++,
              date: Math.floor(Date.now() / 1000),
              chat: { id: Number(body.chat_id), type: "private", first_name: "Customer" },
              text: String(body.text),
            },
          });
        default:
          return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
      }
    });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
