import { Readable } from "node:stream";
import { Api, GrammyError, HttpError, InputFile } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { PlatformError } from "../../errors.js";
import { redact } from "../redact.js";
import { TELEGRAM_ALLOWED_UPDATES } from "./inbound.js";

type GrammySignal = Parameters<Api["getUpdates"]>[1];

/** The Bot API methods that upload a file, one per kind an agent can send. */
export type TelegramFileMethod =
  | "sendPhoto"
  | "sendVideo"
  | "sendAudio"
  | "sendVoice"
  | "sendDocument";

/** Bot tokens look like `123456:ABC-def_...`; the check also keeps URLs built from them sane. */
export const BOT_TOKEN_PATTERN = /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/;

/** Requests other than long polls give up after this long; the delivery lease is longer. */
export const TELEGRAM_REQUEST_TIMEOUT_SECONDS = 10;

export interface TelegramClientOptions {
  apiRoot: string;
  /** Per-request timeout; a long poll adds its own `timeout` on top. */
  requestTimeoutSeconds?: number;
}

/**
 * The Bot API calls we make, on grammY's `Api`. Every failure comes out as a `PlatformError`
 * whose message is short, readable and free of the token: grammY's network errors wrap a fetch
 * error that quotes the request URL, which embeds the token, so they are never passed on.
 */
export class TelegramClient {
  private readonly api: Api;

  constructor(
    private readonly token: string,
    private readonly options: TelegramClientOptions,
  ) {
    this.api = new Api(token, {
      apiRoot: options.apiRoot,
      timeoutSeconds: options.requestTimeoutSeconds ?? TELEGRAM_REQUEST_TIMEOUT_SECONDS,
    });
  }

  getMe(): Promise<UserFromGetMe> {
    return this.call(() => this.api.getMe());
  }

  async setWebhook(url: string, secretToken: string): Promise<void> {
    await this.call(() =>
      this.api.setWebhook(url, {
        secret_token: secretToken,
        allowed_updates: [...TELEGRAM_ALLOWED_UPDATES],
      }),
    );
  }

  async deleteWebhook(): Promise<void> {
    await this.call(() => this.api.deleteWebhook());
  }

  /** A long poll: waits up to `timeoutSeconds` for updates unless `signal` aborts it. */
  getUpdates(offset: number, timeoutSeconds: number, signal?: AbortSignal): Promise<Update[]> {
    // The HTTP request must outlive the long poll it carries.
    const api = new Api(this.token, {
      apiRoot: this.options.apiRoot,
      timeoutSeconds: timeoutSeconds + TELEGRAM_REQUEST_TIMEOUT_SECONDS,
    });
    return this.call(() =>
      api.getUpdates(
        { offset, timeout: timeoutSeconds, allowed_updates: [...TELEGRAM_ALLOWED_UPDATES] },
        // grammY types the signal with its polyfill's class; at run time it only listens for
        // "abort", which Node's own AbortSignal does.
        signal as unknown as GrammySignal,
      ),
    );
  }

  async sendMessage(chatId: string, text: string): Promise<void> {
    await this.call(() => this.api.sendMessage(chatId, text));
  }

  /**
   * Uploads a file as a photo, video, audio, voice note or document (multipart), with the
   * caption only when there is one.
   */
  async sendFile(
    chatId: string,
    method: TelegramFileMethod,
    body: NodeJS.ReadableStream,
    fileName: string,
    caption: string | null,
  ): Promise<void> {
    const file = new InputFile(chunksOf(body), fileName);
    const other = caption === null ? {} : { caption };
    await this.call<unknown>(() => {
      switch (method) {
        case "sendPhoto":
          return this.api.sendPhoto(chatId, file, other);
        case "sendVideo":
          return this.api.sendVideo(chatId, file, other);
        case "sendAudio":
          return this.api.sendAudio(chatId, file, other);
        case "sendVoice":
          return this.api.sendVoice(chatId, file, other);
        case "sendDocument":
          return this.api.sendDocument(chatId, file, other);
      }
    });
  }

  /** Shows "typing…" in the chat for about five seconds (or until the bot sends a message). */
  async sendTyping(chatId: string): Promise<void> {
    await this.call(() => this.api.sendChatAction(chatId, "typing"));
  }

  /** The `file_id` of the user's current profile photo (a small size), if they show one. */
  async profilePhotoFileId(userId: number): Promise<string | undefined> {
    const photos = await this.call(() => this.api.getUserProfilePhotos(userId, { limit: 1 }));
    const sizes = photos.photos[0];
    if (!sizes || sizes.length === 0) return undefined;
    const fitting = sizes.find((size) => size.width >= 160) ?? sizes[sizes.length - 1];
    return fitting?.file_id;
  }

  /**
   * Downloads a file by id. The download URL embeds the bot token, so it stays in here: callers
   * get bytes, never the URL.
   */
  async downloadFile(fileId: string): Promise<{ body: Buffer; contentType: string }> {
    const response = await this.fetchFile(fileId, TELEGRAM_REQUEST_TIMEOUT_SECONDS * 1000);
    if (!response.ok) {
      await response.body?.cancel();
      throw new PlatformError(`Telegram file download failed (HTTP ${response.status})`, false);
    }
    const contentType = response.headers.get("content-type") ?? "image/jpeg";
    return { body: Buffer.from(await response.arrayBuffer()), contentType };
  }

  /**
   * Streams a customer's file (getFile, then the file URL). Telegram refuses files over 20 MB
   * to bots ("file is too big"): that answer is a non-retryable `PlatformError`. The URL embeds
   * the token, so it never leaves this method; errors are redacted.
   */
  async openFile(fileId: string, timeoutMs: number): Promise<NodeJS.ReadableStream> {
    const response = await this.fetchFile(fileId, timeoutMs);
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      const retryable = response.status >= 500 || response.status === 429;
      throw new PlatformError(`Telegram file download failed (HTTP ${response.status})`, retryable);
    }
    return Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]);
  }

  /**
   * The response for a file id (getFile, then the file URL), whatever its status: each caller
   * decides what a failed status means. The URL embeds the token, so it never leaves here, and
   * a network error is redacted.
   */
  private async fetchFile(fileId: string, timeoutMs: number): Promise<Response> {
    const file = await this.call(() => this.api.getFile(fileId));
    if (!file.file_path) throw new PlatformError("Telegram has no file path for it", false);
    const url = `${this.options.apiRoot}/file/bot${this.token}/${file.file_path}`;
    try {
      return await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new PlatformError("Could not reach Telegram", true, undefined, {
        cause: redact(String(err), this.token),
      });
    }
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw telegramError(err, this.token);
    }
  }
}

/**
 * The bytes of a stream as a plain async iterable. grammY takes any object with a `url` for a
 * link to fetch, and an S3 body (an HTTP response) has one: this hides it.
 */
async function* chunksOf(stream: NodeJS.ReadableStream): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  }
}

/**
 * Classifies a Telegram failure for retries: network trouble, 5xx and 429 may pass; anything
 * else Telegram refused will be refused again. Messages are what an agent can act on.
 */
export function telegramError(err: unknown, token: string): PlatformError {
  if (err instanceof PlatformError) return err;
  if (err instanceof GrammyError) {
    const code = err.error_code;
    const description = redact(err.description ?? "", token);
    if (code === 429) {
      return new PlatformError("Telegram rate limit reached", true, err.parameters.retry_after);
    }
    if (code >= 500) return new PlatformError(`Telegram server error (HTTP ${code})`, true);
    if (code === 401 || code === 404) {
      return new PlatformError("The bot token is invalid or was revoked", false);
    }
    if (code === 403 && /blocked/i.test(description)) {
      return new PlatformError("The customer blocked the bot", false);
    }
    if (code === 403 && /deactivated/i.test(description)) {
      return new PlatformError("The customer's Telegram account was deleted", false);
    }
    if (/chat not found/i.test(description)) {
      return new PlatformError("The Telegram chat was not found", false);
    }
    return new PlatformError(`Telegram refused it: ${description || `HTTP ${code}`}`, false);
  }
  if (err instanceof HttpError) {
    // The wrapped error (not its message) tells a timeout from a refused connection.
    const inner = err.error instanceof Error ? err.error.message : "";
    const timedOut = /timed out|abort/i.test(inner) || /timed out/i.test(err.message);
    const text = timedOut ? "Telegram did not answer in time" : "Could not reach Telegram";
    return new PlatformError(text, true, undefined, { outcomeUnknown: timedOut });
  }
  return new PlatformError("Unexpected error talking to Telegram", true);
}
