import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createSqlStore } from "../../src/store/sql/create-store.js";
import type { AnswerScheduling, Store } from "../../src/store/store.js";
import {
  addressOf,
  type FreshDatabase,
  freshDatabase,
  POSTGRES_ADMIN_URL,
  postgresReachable,
  REDIS_URL,
  redisReachable,
  reportSkip,
  type ServerProcess,
  servicesRequired,
  startServerProcess,
  stopAll,
  waitFor,
} from "../helpers/cluster.js";
import { DEFAULT_ANSWER, FakeModel } from "../helpers/fake-model.js";
import { botToken, FakeTelegram } from "../helpers/fake-telegram.js";
import { MODEL } from "./support.js";

// Real server processes (`node --import tsx src/main.ts`) on one fresh PostgreSQL database and
// Redis, answering through the fake model and delivering to the fake Telegram: a process killed
// while it asks the model leaves its job to the other one, and the customer still gets exactly
// one answer.

const SUITE = "automatic answers across processes";
const JWT_SECRET = "cluster-answers-secret-0123456789abcdef";
// Short enough that the job's lease (3 tries + 5 s) runs out within the test's patience.
const TIMEOUT_MS = 1000;
const ANSWERS: AnswerScheduling = { replyDelayMs: 100 };

async function unreachable(): Promise<string | undefined> {
  if (!(await postgresReachable())) {
    return `PostgreSQL not reachable at ${addressOf(POSTGRES_ADMIN_URL, "5432")}`;
  }
  if (!(await redisReachable())) return `Redis not reachable at ${addressOf(REDIS_URL, "6379")}`;
  return undefined;
}

function suite(): void {
  describe(SUITE, { timeout: 120_000 }, () => {
    let db: FreshDatabase;
    let store: Store;
    let model: FakeModel;
    let telegram: FakeTelegram;
    let env: Record<string, string>;
    const processes: ServerProcess[] = [];

    before(async () => {
      [model, telegram] = await Promise.all([FakeModel.start(), FakeTelegram.start()]);
      db = await freshDatabase("fiko_ai_cluster");
      store = await createSqlStore({ databaseUrl: db.url });
      // Migrated once here, so the processes do not race to create the schema.
      await store.migrate();
      env = {
        DATABASE_URL: db.url,
        REDIS_URL,
        JWT_SECRET,
        PUBLIC_URL: "https://chat.example.test",
        TELEGRAM_API_ROOT: telegram.apiRoot,
        AI_BASE_URL: model.baseUrl,
        AI_MODEL: MODEL,
        AI_REPLY_DELAY_MS: String(ANSWERS.replyDelayMs),
        AI_TIMEOUT_MS: String(TIMEOUT_MS),
        DELIVERY_BASE_DELAY_MS: "50",
      };
    });
    after(async () => {
      await stopAll(processes);
      await store?.close();
      await Promise.all([model?.close(), telegram?.close()]);
      await db?.drop();
    });

    it("a process killed while asking the model: the other answers, exactly once", async () => {
      const owner = await store.users.create({
        username: `owner_${randomBytes(4).toString("hex")}`,
        passwordHash: "scrypt$unused",
        firstName: "Owner",
        lastName: "Cluster",
      });
      const token = telegram.addBot(botToken());
      const channel = await store.channels.create({
        ownerId: owner.id,
        platform: "telegram",
        name: "cluster_bot",
        externalId: token.split(":")[0] ?? "1",
        credentials: { botToken: token, secretToken: "hook-secret" },
        mode: "webhook",
      });
      await store.aiSettings.update(owner.id, {
        enabled: true,
        newConversationStatus: "active",
      });

      // Each process gets its own key, so the Authorization header tells who asked.
      const byKey = new Map<string, ServerProcess>();
      for (const name of ["ai-a", "ai-b"]) {
        const proc = await startServerProcess(name, { ...env, AI_API_KEY: `key-${name}` });
        processes.push(proc);
        byKey.set(`Bearer key-${name}`, proc);
      }
      // The first request never answers: the process holding the job dies while it waits.
      model.script({ hang: true });
      const customerId = String(500_000 + Math.floor(Math.random() * 1e6));
      const { conversation, answerScheduled } = await store.messages.ingest(
        {
          channelId: channel.id,
          ownerId: owner.id,
          source: "telegram",
          customerExternalId: customerId,
          firstName: "Kill",
          lastName: "Test",
          username: null,
          externalMessageId: randomBytes(6).toString("hex"),
          content: "Do you have this in blue?",
        },
        ANSWERS,
      );
      assert.equal(conversation.status, "active");
      assert.equal(answerScheduled, true);
      const [asked] = await model.waitForRequests(1, 15_000);
      const holder = byKey.get(String(asked?.headers.authorization));
      const other = processes.find((p) => p !== holder);
      assert.ok(holder && other, "the first request came from one of the processes");
      holder.kill("SIGKILL");
      await holder.exited;

      // The other process takes the job over once the dead one's lease has run out.
      await model.waitForRequests(2, 30_000);
      await waitFor(
        () => telegram.callsTo("sendMessage").some((c) => c.body.chat_id === customerId),
        "the answer delivered to Telegram",
        15_000,
      );
      await waitFor(
        async () => (await store.answers.nextDueAt()) === undefined,
        "the job finished",
        15_000,
      );
      await waitFor(
        async () =>
          (await store.messages.recent(conversation.id, 50)).messages.some(
            (m) => m.type === "AI" && m.deliveryStatus === "sent",
          ),
        "the answer recorded as sent",
        15_000,
      );
      const { messages } = await store.messages.recent(conversation.id, 50);
      assert.deepEqual(
        messages.map((m) => [m.type, m.content, m.deliveryStatus]),
        [
          ["customer", "Do you have this in blue?", "received"],
          ["AI", DEFAULT_ANSWER, "sent"],
        ],
      );
      assert.equal(model.requests.length, 2);
      assert.equal(model.requests[1]?.headers.authorization, `Bearer key-${other.name}`);
      assert.deepEqual(model.requests[1]?.body.messages?.slice(1), [
        { role: "user", content: "Do you have this in blue?" },
      ]);
      const sends = telegram.callsTo("sendMessage").filter((c) => c.body.chat_id === customerId);
      assert.equal(sends.length, 1);
      assert.equal(sends[0]?.body.text, DEFAULT_ANSWER);
      await waitFor(
        () => other.logged("automatic answer sent").length === 1,
        `the surviving process logs its answer:\n${other.logTail.join("\n")}`,
      );
      // The key goes to the model server only.
      for (const proc of processes) assert.ok(!proc.logTail.join("\n").includes("key-ai-"));
    });
  });
}

const why = await unreachable();
if (why === undefined) {
  suite();
} else if (servicesRequired()) {
  describe(SUITE, () => {
    it("needs PostgreSQL and Redis", () => {
      throw new Error(why);
    });
  });
} else {
  reportSkip(SUITE, why);
}
