import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import type { AiSettingsView } from "../../client/wire.js";
import type { ConversationView, MessageView } from "../../src/domain/views.js";
import {
  addressOf,
  type FreshDatabase,
  freshDatabase,
  POSTGRES_ADMIN_URL,
  postgresReachable,
  reportSkip,
  servicesRequired,
} from "../helpers/cluster.js";
import { FakeModel } from "../helpers/fake-model.js";
import { botToken, FakeTelegram } from "../helpers/fake-telegram.js";
import {
  api,
  ingest,
  openChat,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { type Frame, WsClient } from "../helpers/ws-client.js";

// Shared set-up of the automatic-answer suites: a real server whose AI_BASE_URL is the fake
// model and whose platform runtime delivers to the fake Telegram.

export type StoreKind = "sqlite" | "postgres";

export const MODEL = "fake-model-1";
export const API_KEY = "sk-test-key-that-must-never-be-logged";

export interface AiWorld {
  server: TestServer;
  model: FakeModel;
  telegram: FakeTelegram;
  close(): Promise<void>;
}

/** A fresh PostgreSQL database for one server; undefined when PostgreSQL is not reachable. */
async function postgresDatabase(): Promise<FreshDatabase | undefined> {
  if (!(await postgresReachable())) return undefined;
  return freshDatabase("fiko_ai");
}

export async function startAiWorld(
  kind: StoreKind,
  env: Record<string, string> = {},
): Promise<AiWorld> {
  const [model, telegram] = await Promise.all([FakeModel.start(), FakeTelegram.start()]);
  const db = kind === "postgres" ? await postgresDatabase() : undefined;
  if (kind === "postgres" && db === undefined) throw new Error("PostgreSQL not reachable");
  const server = await startServer({
    platforms: true,
    env: {
      AI_BASE_URL: model.baseUrl,
      AI_MODEL: MODEL,
      AI_API_KEY: API_KEY,
      AI_REPLY_DELAY_MS: "250",
      AI_TIMEOUT_MS: "5000",
      TELEGRAM_API_ROOT: telegram.apiRoot,
      PUBLIC_URL: "https://chat.example.test",
      ...(db && { DATABASE_URL: db.url }),
      ...env,
    },
  });
  return {
    server,
    model,
    telegram,
    async close() {
      await server.close();
      await Promise.all([model.close(), telegram.close()]);
      await db?.drop();
    },
  };
}

const postgresUp = await postgresReachable();

/** Declares `body` once per store kind; PostgreSQL suites skip (or fail in CI) without it. */
export function describeAiStores(title: string, body: (kind: StoreKind) => void): void {
  for (const kind of ["sqlite", "postgres"] as const) {
    describe(`${title} [${kind}]`, () => {
      if (kind === "postgres" && !postgresUp) {
        const why = `PostgreSQL not reachable at ${addressOf(POSTGRES_ADMIN_URL, "5432")}`;
        if (servicesRequired()) {
          it("needs PostgreSQL", () => {
            throw new Error(why);
          });
        } else {
          reportSkip(`${title} [postgres]`, why);
        }
        return;
      }
      body(kind);
    });
  }
}

export async function putSettings(
  server: TestServer,
  user: TestUser,
  body: unknown,
): Promise<{ status: number; body: AiSettingsView }> {
  return api<AiSettingsView>(server, "PUT", "/api/ai/settings/", { token: user.access, body });
}

export interface Shop {
  owner: TestUser;
  channelId: string;
  token: string;
}

/** A user with a Telegram bot the fake knows, connected over the API (webhook mode). */
export async function openShop(world: AiWorld, settings: Record<string, unknown>): Promise<Shop> {
  const owner = await registerUser(world.server);
  const token = world.telegram.addBot(botToken());
  const res = await api<{ id: string }>(world.server, "POST", "/api/channels/", {
    token: owner.access,
    body: { platform: "telegram", bot_token: token },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const put = await putSettings(world.server, owner, settings);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  return { owner, channelId: res.body.id, token };
}

/** A customer message from `customerId` through the chat service, as the webhook would. */
export function customerWrites(world: AiWorld, shop: Shop, customerId: string, text: string) {
  return ingest(
    world.server,
    shop.owner.id,
    text,
    { externalId: customerId },
    { channelId: shop.channelId },
  );
}

export const newCustomerId = (): string => String(100_000 + randomBytes(3).readUIntBE(0, 3));

/**
 * A conversation in status `active` with the owner's chat and list sockets open before the
 * message that wakes the model: the first message arrives while answers are off (so nothing
 * answers it), then answers go on and the status is set to `active`.
 */
export async function activeConversation(world: AiWorld, shop: Shop, first = "Hi there") {
  const customerId = newCustomerId();
  await putSettings(world.server, shop.owner, { enabled: false });
  const { conversation } = await customerWrites(world, shop, customerId, first);
  await putSettings(world.server, shop.owner, { enabled: true });
  const patched = await api<ConversationView>(
    world.server,
    "PATCH",
    `/api/conversations/${conversation.id}/`,
    { token: shop.owner.access, body: { status: "active" } },
  );
  assert.equal(patched.body.status, "active");
  const { client: chat } = await openChat(world.server, conversation.id, shop.owner.access);
  const list = await WsClient.connect(
    `${world.server.wsUrl}/ws/conversations/?token=${shop.owner.access}`,
  );
  await list.next("conversations_list");
  return { conversationId: conversation.id, customerId, chat, list };
}

export const messageOf = (frame: Frame): MessageView => frame.message as MessageView;
export const conversationOf = (frame: Frame): ConversationView =>
  frame.conversation as ConversationView;

/** No answer job is waiting or running anywhere. */
export async function noPendingAnswer(server: TestServer): Promise<boolean> {
  return (await server.server.store.answers.nextDueAt()) === undefined;
}
