import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { File, Message, Update, UserFromGetMe, UserProfilePhotos } from "grammy/types";

/** A file sent to a `send*` method as a multipart upload. */
export interface TelegramUpload {
  /** The form field that carried it (grammY names it; the method's field points at it). */
  field: string;
  fileName: string;
  bytes: Buffer;
}

/** One request the fake received. */
export interface TelegramCall {
  token: string;
  method: string;
  /** JSON body, or the text fields of a multipart body. */
  body: Record<string, unknown>;
  /** The uploaded file of a multipart request. */
  upload?: TelegramUpload;
  at: number;
  /** When the answer was sent or the caller hung up; undefined while the call is open. */
  endedAt?: number;
}

/** A canned answer: HTTP status and JSON body (Bot API envelope), optionally late. */
export interface TelegramReply {
  status: number;
  body: unknown;
  delayMs?: number;
}

/** A scripted call that waits for `until`, then gets the normal answer. */
export const heldUntil = (until: Promise<void>): TelegramReply & { hold: Promise<void> } => ({
  status: 200,
  body: null,
  hold: until,
});

export const telegramError = (
  code: number,
  description: string,
  parameters?: { retry_after?: number },
): TelegramReply => ({
  status: code,
  body: { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) },
});

/** A bot token in the real format, unique per call. */
export function botToken(id = 100000 + Math.floor(Math.random() * 900000)): string {
  const tail = Array.from({ length: 35 }, () =>
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".charAt(
      Math.floor(Math.random() * 64),
    ),
  ).join("");
  return `${id}:${tail}`;
}

export const PHOTO_BYTES = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);

/**
 * A Bot API server on 127.0.0.1 (port 0) for the methods we call. It records every request,
 * holds long polls open like Telegram does, and can be told to answer a method's next calls
 * with errors or delays (`script`).
 */
export class FakeTelegram {
  readonly calls: TelegramCall[] = [];
  readonly fileDownloads: string[] = [];
  private readonly bots = new Map<string, UserFromGetMe>();
  private readonly updates = new Map<string, Update[]>();
  private readonly scripts = new Map<string, TelegramReply[]>();
  private readonly photos = new Map<number, string>();
  private readonly files = new Map<string, { bytes: Buffer; tooBig: boolean }>();
  private readonly pollWaiters = new Set<() => void>();
  private readonly openPolls = new Map<string, number>();
  private readonly peakPolls = new Map<string, number>();
  private nextMessageId = 5000;
  private readonly callWaiters = new Set<() => void>();
  private closing = false;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly apiRoot: string,
  ) {}

  static async start(): Promise<FakeTelegram> {
    let fake: FakeTelegram | undefined;
    const server = createServer((req, res) => {
      fake?.handle(req, res).catch((err: unknown) => {
        res.writeHead(500).end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeTelegram(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  /** Makes `token` a valid bot; returns it. */
  addBot(token: string, me: Partial<UserFromGetMe> = {}): string {
    const id = Number(token.split(":")[0]);
    this.bots.set(token, {
      id,
      is_bot: true,
      first_name: "Support Bot",
      username: `support_${id}_bot`,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      ...me,
    } as UserFromGetMe);
    return token;
  }

  /** Queues an update for the bot's `getUpdates`. */
  pushUpdate(token: string, update: Update): void {
    const list = this.updates.get(token) ?? [];
    list.push(update);
    this.updates.set(token, list);
    for (const wake of this.pollWaiters) wake();
  }

  /** The next calls of `method` get these answers, in order, before normal service resumes. */
  script(method: string, ...replies: TelegramReply[]): void {
    this.scripts.set(method, [...(this.scripts.get(method) ?? []), ...replies]);
  }

  /**
   * A file customers may send: `getFile` answers its path and the download its bytes. A file
   * `tooBig` is refused by `getFile` as Telegram refuses bots files over 20 MB.
   */
  addFile(fileId: string, bytes: Buffer, options: { tooBig?: boolean } = {}): void {
    this.files.set(fileId, { bytes, tooBig: options.tooBig ?? false });
  }

  setProfilePhoto(userId: number, fileId: string): void {
    this.photos.set(userId, fileId);
  }

  callsTo(method: string): TelegramCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The bot's `getUpdates` calls open right now (Telegram allows one). */
  pollsOpen(token: string): number {
    return this.openPolls.get(token) ?? 0;
  }

  /** The most `getUpdates` calls the bot ever had open at once. */
  peakPollsOpen(token: string): number {
    return this.peakPolls.get(token) ?? 0;
  }

  /** Resolves once `count` calls to `method` were received. */
  async waitForCalls(method: string, count: number, timeoutMs = 5000): Promise<TelegramCall[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.callsTo(method).length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`expected ${count} ${method} calls, got ${this.callsTo(method).length}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        const waiters = this.callWaiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
    return this.callsTo(method);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.pollWaiters) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.apiRoot);
    const raw = await readBody(req);
    const file = url.pathname.match(/^\/file\/bot([^/]+)\/(.+)$/);
    if (file) {
      const path = file[2] ?? "";
      this.fileDownloads.push(path);
      for (const wake of [...this.callWaiters]) wake();
      if (!this.bots.has(decodeURIComponent(file[1] ?? ""))) return send(res, 404, "not found");
      const scripted = this.scripts.get("download")?.shift();
      if (scripted) return send(res, scripted.status, scripted.body);
      const known = this.files.get(path.replace(/^documents\//, ""));
      // Telegram answers every file as a download; the type is never its word to trust.
      res.writeHead(200, {
        "content-type": known ? "application/octet-stream" : "image/jpeg",
      });
      res.end(known ? known.bytes : PHOTO_BYTES);
      return;
    }
    const match = url.pathname.match(/^\/bot([^/]+)\/([A-Za-z]+)$/);
    if (!match) return send(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    const token = decodeURIComponent(match[1] ?? "");
    const method = match[2] ?? "";
    const { body, upload } = await parseBody(req.headers["content-type"], raw);
    const call: TelegramCall = { token, method, body, at: Date.now(), ...(upload && { upload }) };
    this.calls.push(call);
    res.once("close", () => {
      call.endedAt = Date.now();
    });
    if (method === "getUpdates") {
      const open = this.pollsOpen(token) + 1;
      this.openPolls.set(token, open);
      this.peakPolls.set(token, Math.max(open, this.peakPollsOpen(token)));
      res.once("close", () => this.openPolls.set(token, this.pollsOpen(token) - 1));
    }
    for (const wake of [...this.callWaiters]) wake();

    const scripted = this.scripts.get(method)?.shift();
    if (scripted && "hold" in scripted && scripted.hold instanceof Promise) {
      await scripted.hold;
    } else if (scripted) {
      if (scripted.delayMs) await delay(scripted.delayMs);
      return send(res, scripted.status, scripted.body);
    }
    const me = this.bots.get(token);
    if (!me) return send(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
    const ok = (result: unknown) => send(res, 200, { ok: true, result });

    switch (method) {
      case "getMe":
        return ok(me);
      case "setWebhook":
      case "deleteWebhook":
      case "sendChatAction":
        return ok(true);
      case "getUpdates":
        return ok(await this.poll(token, body, res));
      case "sendMessage": {
        const message: Message.TextMessage = {
          message_id: this.nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(body.chat_id), type: "private", first_name: "Customer" },
          from: me,
          text: String(body.text),
        };
        return ok(message);
      }
      case "getUserProfilePhotos": {
        const fileId = this.photos.get(Number(body.user_id));
        const photos: UserProfilePhotos = fileId
          ? {
              total_count: 1,
              photos: [
                [
                  { file_id: `${fileId}_s`, file_unique_id: "u1", width: 160, height: 160 },
                  { file_id: fileId, file_unique_id: "u2", width: 640, height: 640 },
                ],
              ],
            }
          : { total_count: 0, photos: [] };
        return ok(photos);
      }
      case "getFile": {
        const known = this.files.get(String(body.file_id));
        if (known?.tooBig) {
          return send(res, 400, {
            ok: false,
            error_code: 400,
            description: "Bad Request: file is too big",
          });
        }
        const result: File = known
          ? {
              file_id: String(body.file_id),
              file_unique_id: "uniq",
              file_size: known.bytes.length,
              file_path: `documents/${String(body.file_id)}`,
            }
          : {
              file_id: String(body.file_id),
              file_unique_id: "uniq",
              file_size: PHOTO_BYTES.length,
              file_path: `photos/${String(body.file_id)}.jpg`,
            };
        return ok(result);
      }
      case "sendPhoto":
      case "sendVideo":
      case "sendAudio":
      case "sendVoice":
      case "sendDocument": {
        const message = {
          message_id: this.nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(body.chat_id), type: "private", first_name: "Customer" },
          from: me,
          ...(typeof body.caption === "string" ? { caption: body.caption } : {}),
        };
        return ok(message);
      }
      default:
        return send(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    }
  }

  /** Answers at once when updates are queued, else holds the request for `timeout` seconds. */
  private async poll(token: string, body: Record<string, unknown>, res: ServerResponse) {
    const offset = Number(body.offset ?? 0);
    const timeoutMs = Number(body.timeout ?? 0) * 1000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Like Telegram, asking with an offset confirms every update before it.
      const list = (this.updates.get(token) ?? []).filter((u) => u.update_id >= offset);
      this.updates.set(token, list);
      const left = deadline - Date.now();
      if (list.length > 0 || left <= 0 || res.destroyed || this.closing) return list;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.pollWaiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          res.off("close", done);
          resolve();
        }
        waiters.add(done);
        res.once("close", done);
      });
    }
  }
}

/** JSON, or multipart/form-data (what grammY sends when a file is uploaded). */
async function parseBody(
  contentType: string | undefined,
  raw: Buffer,
): Promise<{ body: Record<string, unknown>; upload?: TelegramUpload }> {
  if (raw.length === 0) return { body: {} };
  if (!contentType?.startsWith("multipart/form-data")) {
    return { body: JSON.parse(raw.toString("utf8")) as Record<string, unknown> };
  }
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2] ?? "";
  const body: Record<string, unknown> = {};
  let upload: TelegramUpload | undefined;
  for (const part of multipartParts(raw, boundary)) {
    if (part.fileName === undefined) body[part.name] = part.data.toString("utf8");
    else upload = { field: part.name, fileName: part.fileName, bytes: part.data };
  }
  return { body, ...(upload && { upload }) };
}

/**
 * The parts of a multipart body. Written out here because grammY writes headers without a
 * space after the colon, which the platform's own FormData parser refuses.
 */
function multipartParts(raw: Buffer, boundary: string) {
  const parts: Array<{ name: string; fileName: string | undefined; data: Buffer }> = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let start = raw.indexOf(delimiter);
  while (start >= 0) {
    const headerStart = start + delimiter.length + 2;
    const next = raw.indexOf(delimiter, headerStart);
    if (next < 0) break;
    const headerEnd = raw.indexOf("\r\n\r\n", headerStart);
    if (headerEnd < 0 || headerEnd > next) break;
    const headers = raw.subarray(headerStart, headerEnd).toString("utf8");
    // Quoted or not (grammY leaves the file name bare).
    const name = /[;\s]name="?([^";\r\n]*)"?/i.exec(headers)?.[1] ?? "";
    const fileName = /filename="?([^";\r\n]*)"?/i.exec(headers)?.[1];
    // The data ends with the CRLF before the next delimiter.
    parts.push({ name, fileName, data: raw.subarray(headerEnd + 4, next - 2) });
    start = next;
  }
  return parts;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json" });
  res.end(text);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
