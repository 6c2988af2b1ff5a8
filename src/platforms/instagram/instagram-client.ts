import { Readable } from "node:stream";
import { z } from "zod";
import { PlatformError } from "../../errors.js";
import { redact } from "../redact.js";

/** Requests give up after this long; the delivery lease is longer. */
export const INSTAGRAM_REQUEST_TIMEOUT_MS = 10_000;

export interface InstagramProfile {
  name?: string;
  username?: string;
  profilePic?: string;
}

const graphErrorSchema = z.looseObject({
  error: z.looseObject({
    message: z.string().optional(),
    code: z.number().optional(),
    error_subcode: z.number().optional(),
    is_transient: z.boolean().optional(),
  }),
});

const profileSchema = z.looseObject({
  name: z.string().optional(),
  username: z.string().optional(),
  profile_pic: z.string().optional(),
});

// Graph API error codes that mean "slow down" (application, user, page and custom limits).
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613]);
const OUTSIDE_WINDOW_SUBCODE = 2018278;

/**
 * The Instagram Graph API calls we make, with the access token in the `Authorization` header
 * (never in a URL, so it cannot end up in a log line).
 */
export class InstagramClient {
  constructor(private readonly options: { apiRoot: string; apiVersion: string }) {}

  /** Name, username and picture of a customer, by Instagram-scoped id. */
  async getProfile(igsid: string, accessToken: string): Promise<InstagramProfile> {
    const query = new URLSearchParams({ fields: "name,username,profile_pic" });
    const body = await this.request(
      "GET",
      `${encodeURIComponent(igsid)}?${query}`,
      accessToken,
      undefined,
    );
    const profile = profileSchema.safeParse(body);
    if (!profile.success) throw new PlatformError("Unexpected Instagram profile answer", false);
    return {
      name: profile.data.name,
      username: profile.data.username,
      profilePic: profile.data.profile_pic,
    };
  }

  async sendMessage(
    accountId: string,
    accessToken: string,
    recipientId: string,
    text: string,
  ): Promise<void> {
    await this.request("POST", `${encodeURIComponent(accountId)}/messages`, accessToken, {
      recipient: { id: recipientId },
      message: { text },
    });
  }

  /** A file by URL: Instagram fetches it from there (our signed link under PUBLIC_URL). */
  async sendAttachment(
    accountId: string,
    accessToken: string,
    recipientId: string,
    type: "image" | "video" | "audio" | "file",
    url: string,
  ): Promise<void> {
    await this.request("POST", `${encodeURIComponent(accountId)}/messages`, accessToken, {
      recipient: { id: recipientId },
      message: { attachment: { type, payload: { url } } },
    });
  }

  /**
   * Streams a file a customer sent, from the CDN URL of the webhook. Those links expire: a 4xx
   * answer is final (the file is gone for us), a 5xx or a network error may pass.
   */
  async openFile(url: string, timeoutMs: number): Promise<NodeJS.ReadableStream> {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch {
      throw new PlatformError("Could not reach Instagram's file server", true);
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      const retryable = response.status >= 500 || response.status === 429;
      throw new PlatformError(
        retryable
          ? `Instagram file server error (HTTP ${response.status})`
          : `The Instagram file link no longer works (HTTP ${response.status})`,
        retryable,
      );
    }
    return Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]);
  }

  private async request(
    method: "GET" | "POST",
    path: string,
    accessToken: string,
    body: unknown,
  ): Promise<unknown> {
    const url = `${this.options.apiRoot}/${this.options.apiVersion}/${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${accessToken}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(INSTAGRAM_REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const timedOut = err instanceof Error && err.name === "TimeoutError";
      const text = timedOut ? "Instagram did not answer in time" : "Could not reach Instagram";
      throw new PlatformError(text, true, undefined, {
        cause: redact(String(err), accessToken),
        outcomeUnknown: timedOut,
      });
    }
    const text = await response.text().catch(() => "");
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (response.ok) return json;
    throw instagramError(response.status, json, response.headers.get("retry-after"), accessToken);
  }
}

/**
 * Classifies a Graph API failure: 5xx, 429, rate-limit codes and errors Meta marks transient
 * may pass on a later try; anything else is refused for good.
 */
export function instagramError(
  status: number,
  body: unknown,
  retryAfterHeader: string | null,
  accessToken?: string,
): PlatformError {
  const parsed = graphErrorSchema.safeParse(body);
  const error = parsed.success ? parsed.data.error : undefined;
  const message = redact(error?.message ?? "", accessToken).slice(0, 200);
  const code = error?.code;
  const retryAfter = retryAfterHeader ? Number(retryAfterHeader) : Number.NaN;
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;

  if (status === 429 || (code !== undefined && RATE_LIMIT_CODES.has(code))) {
    return new PlatformError("Instagram rate limit reached", true, retryAfterSeconds);
  }
  if (
    (code === 10 && error?.error_subcode === OUTSIDE_WINDOW_SUBCODE) ||
    /allowed window|outside of the allowed|24[- ]hour/i.test(message)
  ) {
    return new PlatformError("Outside Instagram's 24-hour reply window", false);
  }
  if (status >= 500 || error?.is_transient === true || code === 1 || code === 2) {
    return new PlatformError(`Instagram server error (HTTP ${status})`, true);
  }
  if (code === 190 || status === 401) {
    return new PlatformError("The Instagram access token is invalid or expired", false);
  }
  if (code === 551 || error?.error_subcode === 1545041) {
    return new PlatformError("The customer is not available on Instagram", false);
  }
  return new PlatformError(`Instagram refused it: ${message || `HTTP ${status}`}`, false);
}
