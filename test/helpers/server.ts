import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config.js";
import type { Platform } from "../../src/domain/types.js";
import { createLogger } from "../../src/logger.js";
import { createServer, type Server } from "../../src/server.js";
import { WsClient } from "./ws-client.js";

export const TEST_JWT_SECRET = "test-secret-that-is-long-enough-0123456789";

/** Every abuse limit off (see startServer). */
export const LIMITS_OFF: Record<string, string> = {
  SIGNIN_FAILURE_LIMIT: "0",
  REGISTRATION_RATE_LIMIT: "0",
  REST_RATE_LIMIT: "0",
  WS_CONNECT_RATE_LIMIT: "0",
  MAX_SOCKETS_PER_USER: "0",
};

export interface TestServer {
  baseUrl: string;
  wsUrl: string;
  config: Readonly<Config>;
  server: Server;
  /** Stops the server; the data directory is removed unless `keepData`. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Start the platform adapters and delivery worker (off by default in chat tests). */
  platforms?: boolean;
  /** Reuse a data directory (restart tests); a fresh temporary one otherwise. */
  dataDir?: string;
}

/** The real server on 127.0.0.1, port 0, with a fresh SQLite file. */
export async function startServer(
  options: StartOptions = {},
): Promise<TestServer & { dataDir: string }> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "fiko-test-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SQLITE_PATH: join(dataDir, "fiko.sqlite"),
    FILES_DIR: join(dataDir, "files"),
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    DELIVERY_BASE_DELAY_MS: "20",
    // Suites register many users from one address and open sockets in bursts; the limits suites
    // switch on the limit they check.
    ...LIMITS_OFF,
    ...options.env,
  });
  const server = await createServer(config, createLogger(config.logLevel), {
    platforms: options.platforms ?? false,
  });
  const port = await server.listen();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    config,
    server,
    dataDir,
    async close(closeOptions) {
      await server.stop();
      if (!closeOptions?.keepData && !options.dataDir)
        rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** A JSON HTTP call; `token` goes in as a bearer token. */
export async function api<T = Record<string, unknown>>(
  server: { baseUrl: string },
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  const response = await fetch(server.baseUrl + path, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === "string"
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (hub.challenge answers are text): keep the text.
  }
  return { status: response.status, body: body as T };
}

export interface TestUser {
  id: number;
  username: string;
  access: string;
  refresh: string;
}

/** Registers a user over REST and logs in. */
export async function registerUser(
  server: { baseUrl: string },
  username?: string,
): Promise<TestUser> {
  const name = username ?? `agent_${randomBytes(4).toString("hex")}`;
  const password = "correct horse battery";
  const reg = await api<{ id: number }>(server, "POST", "/api/auth/register/", {
    body: { username: name, password, first_name: "Ada", last_name: "Agent" },
  });
  if (reg.status !== 201)
    throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
  const tok = await api<{ access: string; refresh: string }>(server, "POST", "/api/auth/token/", {
    body: { username: name, password },
  });
  return { id: reg.body.id, username: name, access: tok.body.access, refresh: tok.body.refresh };
}

export interface CustomerSpec {
  source?: Platform;
  externalId?: string;
  firstName?: string;
  lastName?: string;
  username?: string | null;
}

/**
 * A channel for `ownerId` (no platform behind it unless the test starts one) and a customer
 * message through the chat service, as a platform adapter would deliver it.
 */
export async function ingest(
  server: TestServer,
  ownerId: number,
  content: string,
  customer: CustomerSpec = {},
  extra: { channelId?: string; externalMessageId?: string } = {},
) {
  const source = customer.source ?? "telegram";
  const channelId =
    extra.channelId ??
    (
      await server.server.store.channels.create({
        ownerId,
        platform: source,
        name: "test_bot",
        externalId: randomBytes(6).toString("hex"),
        credentials: { botToken: "123:test" },
        mode: "webhook",
      })
    ).id;
  const result = await server.server.chat.ingestCustomerMessage({
    channelId,
    ownerId,
    source,
    customerExternalId: customer.externalId ?? "1001",
    firstName: customer.firstName ?? "John",
    lastName: customer.lastName ?? "Doe",
    username: customer.username === undefined ? "johnd" : customer.username,
    externalMessageId: extra.externalMessageId ?? randomBytes(8).toString("hex"),
    content,
  });
  return { ...result, channelId };
}

export const chatUrl = (server: TestServer, conversationId: string, token: string, extra = "") =>
  `${server.wsUrl}/ws/chat/${conversationId}/?token=${token}${extra}`;

export const listUrl = (server: TestServer, token: string) =>
  `${server.wsUrl}/ws/conversations/?token=${token}`;

/** Connects a chat socket and reads `connection_established` and `recent_messages`. */
export async function openChat(
  server: TestServer,
  conversationId: string,
  token: string,
  extra = "",
) {
  const client = await WsClient.connect(chatUrl(server, conversationId, token, extra));
  const established = await client.next();
  const recent = await client.next();
  return { client, established, recent };
}
