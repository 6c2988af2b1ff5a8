import assert from "node:assert/strict";
import type { Message, Update, User } from "grammy/types";
import { FakeInstagram, hubSignature, INSTAGRAM_VERSION } from "../helpers/fake-instagram.js";
import { botToken, FakeTelegram } from "../helpers/fake-telegram.js";
import {
  api,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

// Shared set-up of the platform suites: a real server with the platform runtime, pointed at
// the fake Telegram and Instagram servers, and realistic payload builders.

export const APP_SECRET = "ig-app-secret-for-tests";
export const VERIFY_TOKEN = "ig-verify-token-for-tests";
export const PUBLIC_URL = "https://chat.example.test";

export interface Platforms {
  telegram: FakeTelegram;
  instagram: FakeInstagram;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Platforms> {
  const [telegram, instagram] = await Promise.all([FakeTelegram.start(), FakeInstagram.start()]);
  return {
    telegram,
    instagram,
    close: async () => {
      await Promise.all([telegram.close(), instagram.close()]);
    },
  };
}

/** A server with the platform runtime; webhook mode unless `polling`. */
export function startPlatformServer(
  fakes: Platforms,
  options: { polling?: boolean; env?: Record<string, string>; dataDir?: string } = {},
) {
  return startServer({
    platforms: true,
    dataDir: options.dataDir,
    env: {
      TELEGRAM_API_ROOT: fakes.telegram.apiRoot,
      INSTAGRAM_API_ROOT: fakes.instagram.apiRoot,
      INSTAGRAM_API_VERSION: INSTAGRAM_VERSION,
      INSTAGRAM_APP_SECRET: APP_SECRET,
      INSTAGRAM_VERIFY_TOKEN: VERIFY_TOKEN,
      ...(options.polling ? {} : { PUBLIC_URL }),
      ...options.env,
    },
  });
}

export interface TelegramChannel {
  id: string;
  token: string;
  /** The secret the server gave Telegram in setWebhook (undefined in polling mode). */
  secret: string | undefined;
}

/** Connects a new bot over the API, as a user would. */
/**
 * The usual start of a platform suite: the fakes, a server talking to them, an owner and one
 * Telegram bot of theirs connected by webhook.
 */
export async function startTelegramSuite() {
  const fakes = await startFakes();
  const server = await startPlatformServer(fakes);
  const owner = await registerUser(server);
  const channel = await connectTelegram(server, fakes, owner);
  return { fakes, server, owner, channel };
}

export async function connectTelegram(
  server: TestServer,
  fakes: Platforms,
  user: TestUser,
): Promise<TelegramChannel> {
  const token = fakes.telegram.addBot(botToken());
  const res = await api<{ id: string }>(server, "POST", "/api/channels/", {
    token: user.access,
    body: { platform: "telegram", bot_token: token },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const setWebhook = fakes.telegram.callsTo("setWebhook").filter((c) => c.token === token);
  return { id: res.body.id, token, secret: setWebhook.at(-1)?.body.secret_token as string };
}

export async function connectInstagram(
  server: TestServer,
  user: TestUser,
  accountId = String(17841400000000000 + Math.floor(Math.random() * 1e9)),
): Promise<{ id: string; accountId: string; accessToken: string }> {
  const accessToken = `IGAAtest${Math.random().toString(36).slice(2)}${Date.now()}`;
  const res = await api<{ id: string }>(server, "POST", "/api/channels/", {
    token: user.access,
    body: { platform: "instagram", account_id: accountId, access_token: accessToken },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, accountId, accessToken };
}

let nextUserId = 7_000_000_000;

/** A Telegram user, unique per call. */
export function telegramUser(overrides: Partial<User> = {}): User {
  return {
    id: nextUserId++,
    is_bot: false,
    first_name: "John",
    last_name: "Doe",
    username: "johnd",
    language_code: "en",
    ...overrides,
  };
}

let nextUpdateId = 800_000_000;
let nextMessageId = 1;

/** A private-chat message update; `fields` supplies text, photo, caption and so on. */
export function privateMessage(
  from: User,
  fields: Partial<Message> = { text: "Hello, I need help with my order" },
  options: { messageId?: number; updateId?: number; edited?: boolean } = {},
): Update {
  const message = {
    message_id: options.messageId ?? nextMessageId++,
    date: Math.floor(Date.now() / 1000),
    chat: {
      id: from.id,
      type: "private" as const,
      first_name: from.first_name,
      ...(from.last_name ? { last_name: from.last_name } : {}),
      ...(from.username ? { username: from.username } : {}),
    },
    from,
    ...fields,
  } as Update["message"] & {};
  const update_id = options.updateId ?? nextUpdateId++;
  if (!options.edited) return { update_id, message };
  return { update_id, edited_message: { ...message, edit_date: message.date + 5 } };
}

/** Delivers an update to the webhook as Telegram would. */
export function postTelegram(
  server: TestServer,
  channelId: string,
  secret: string | undefined,
  update: unknown,
  path = `/api/webhooks/telegram/${channelId}/`,
) {
  return fetch(server.baseUrl + path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(secret === undefined ? {} : { "x-telegram-bot-api-secret-token": secret }),
    },
    body: typeof update === "string" ? update : JSON.stringify(update),
  });
}

/** An Instagram messaging webhook body with one event per message. */
export function instagramBody(
  accountId: string,
  events: Array<{
    sender: string;
    mid?: string;
    text?: string;
    attachments?: Array<{ type: string; payload?: Record<string, unknown> }>;
    isEcho?: boolean;
  }>,
) {
  const time = Date.now();
  return {
    object: "instagram",
    entry: [
      {
        time,
        id: accountId,
        messaging: events.map((e) => ({
          sender: { id: e.isEcho ? accountId : e.sender },
          recipient: { id: e.isEcho ? e.sender : accountId },
          timestamp: time,
          message: {
            mid:
              e.mid ??
              `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3${Math.random().toString(36).slice(2)}`,
            ...(e.text === undefined ? {} : { text: e.text }),
            ...(e.attachments ? { attachments: e.attachments } : {}),
            ...(e.isEcho ? { is_echo: true } : {}),
          },
        })),
      },
    ],
  };
}

/** Delivers a body to the Instagram webhook, signed unless `signature` is given. */
export function postInstagram(server: TestServer, body: unknown, signature?: string | null) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null)
    headers["x-hub-signature-256"] = signature ?? hubSignature(raw, APP_SECRET);
  return fetch(`${server.baseUrl}/api/webhooks/instagram/`, { method: "POST", headers, body: raw });
}

/** The conversations of a user, over REST. */
export async function conversations(server: TestServer, user: TestUser) {
  const res = await api<{ conversations: Array<Record<string, unknown>> }>(
    server,
    "GET",
    "/api/conversations/",
    { token: user.access },
  );
  assert.equal(res.status, 200);
  return res.body.conversations;
}

export async function messagesOf(server: TestServer, user: TestUser, conversationId: string) {
  const res = await api<{ messages: Array<Record<string, unknown>> }>(
    server,
    "GET",
    `/api/conversations/${conversationId}/messages/`,
    { token: user.access },
  );
  assert.equal(res.status, 200);
  return res.body.messages;
}

/** A list socket past its greeting and first list. */
export async function openList(server: TestServer, user: TestUser): Promise<WsClient> {
  const client = await WsClient.connect(`${server.wsUrl}/ws/conversations/?token=${user.access}`);
  await client.next("connection_established");
  await client.next("conversations_list");
  return client;
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
