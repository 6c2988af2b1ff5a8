import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const INSTAGRAM_VERSION = "v21.0";

export interface InstagramCall {
  kind: "profile" | "send";
  method: string;
  path: string;
  authorization: string | undefined;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** `recipient.id` of a send. */
  recipientId: string | undefined;
  at: number;
}

export interface InstagramReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** A Graph API error body as Meta sends it. */
export const graphError = (
  status: number,
  error: { message: string; code: number; error_subcode?: number; type?: string },
  headers?: Record<string, string>,
): InstagramReply => ({
  status,
  body: { error: { type: "OAuthException", fbtrace_id: "AbCdEf123", ...error } },
  headers,
});

export const OUTSIDE_WINDOW = graphError(400, {
  message: "This message is sent outside of allowed window.",
  code: 10,
  error_subcode: 2018278,
});

/** `X-Hub-Signature-256` for a body, as Meta computes it. */
export const hubSignature = (body: string | Buffer, appSecret: string): string =>
  `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`;

/**
 * The Instagram Graph API calls we make: `GET /{version}/{igsid}` (profile) and
 * `POST /{version}/{account}/messages` (send), on 127.0.0.1 port 0. Records every request and
 * can be told to answer the next ones of a kind with errors or delays (`script`).
 */
export class FakeInstagram {
  readonly calls: InstagramCall[] = [];
  readonly profiles = new Map<string, Record<string, unknown>>();
  private readonly scripts = new Map<InstagramCall["kind"], InstagramReply[]>();
  private nextId = 1;
  private readonly cdnFiles = new Map<string, { bytes: Buffer; expiresAt: number }>();
  /** CDN downloads, by file id, in order. */
  readonly cdnFetches: Array<{ id: string; status: number }> = [];

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly apiRoot: string,
  ) {}

  static async start(): Promise<FakeInstagram> {
    let fake: FakeInstagram | undefined;
    const server = createServer((req, res) => {
      fake?.handle(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeInstagram(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  script(kind: InstagramCall["kind"], ...replies: InstagramReply[]): void {
    this.scripts.set(kind, [...(this.scripts.get(kind) ?? []), ...replies]);
  }

  /**
   * A file on the fake CDN, as a webhook's `payload.url` names it. Like Meta's lookaside links it
   * stops working (403) once `ttlMs` has passed.
   */
  cdnUrl(bytes: Buffer, ttlMs = 60_000): string {
    const id = `asset${this.nextId++}`;
    const expiresAt = Date.now() + ttlMs;
    this.cdnFiles.set(id, { bytes, expiresAt });
    return `${this.apiRoot}/cdn/ig_messaging_cdn/?asset_id=${id}&oe=${Math.floor(expiresAt / 1000)}`;
  }

  /** Makes a CDN link stop working now. */
  expire(url: string): void {
    const id = new URL(url).searchParams.get("asset_id") ?? "";
    const file = this.cdnFiles.get(id);
    if (file) file.expiresAt = 0;
  }

  callsOf(kind: InstagramCall["kind"]): InstagramCall[] {
    return this.calls.filter((c) => c.kind === kind);
  }

  async waitForCalls(kind: InstagramCall["kind"], count: number, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (this.callsOf(kind).length < count) {
      if (Date.now() > deadline) {
        throw new Error(`expected ${count} ${kind} calls, got ${this.callsOf(kind).length}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.callsOf(kind);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.apiRoot);
    const raw = await readBody(req);
    if (url.pathname.startsWith("/cdn/")) return this.serveCdn(url, res);
    const parts = url.pathname.split("/").filter(Boolean);
    const version = parts[0];
    const send = req.method === "POST" && parts.length === 3 && parts[2] === "messages";
    const profile = req.method === "GET" && parts.length === 2;
    if (version !== INSTAGRAM_VERSION || (!send && !profile)) {
      return reply(res, { status: 404, body: { error: { message: "Unknown path", code: 803 } } });
    }
    const body =
      raw.length > 0 ? (JSON.parse(raw.toString("utf8")) as Record<string, unknown>) : undefined;
    const recipient = body?.recipient as { id?: unknown } | undefined;
    const call: InstagramCall = {
      kind: send ? "send" : "profile",
      method: req.method ?? "",
      path: url.pathname,
      authorization: req.headers.authorization,
      query: Object.fromEntries(url.searchParams),
      body,
      recipientId: typeof recipient?.id === "string" ? recipient.id : undefined,
      at: Date.now(),
    };
    this.calls.push(call);
    const scripted = this.scripts.get(call.kind)?.shift();
    if (scripted) {
      if (scripted.delayMs) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
      return reply(res, scripted);
    }
    if (send) {
      return reply(res, {
        status: 200,
        body: { recipient_id: call.recipientId, message_id: `m_sent_${this.nextId++}` },
      });
    }
    const found = this.profiles.get(parts[1] ?? "");
    if (!found) {
      return reply(res, graphError(400, { message: "Unsupported get request.", code: 100 }));
    }
    return reply(res, { status: 200, body: { id: parts[1], ...found } });
  }

  private serveCdn(url: URL, res: ServerResponse): void {
    const id = url.searchParams.get("asset_id") ?? "";
    const file = this.cdnFiles.get(id);
    const status = file === undefined ? 404 : file.expiresAt < Date.now() ? 403 : 200;
    this.cdnFetches.push({ id, status });
    if (file === undefined || status !== 200) {
      res.writeHead(status, { "content-type": "text/plain" }).end("URL signature expired");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(file.bytes);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, r: InstagramReply): void {
  if (res.destroyed) return;
  res.writeHead(r.status, { "content-type": "application/json", ...r.headers });
  res.end(JSON.stringify(r.body));
}
