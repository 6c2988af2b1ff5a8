import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Channel } from "../../src/domain/types.js";
import { createSqlStore } from "../../src/store/sql/create-store.js";
import type { Store } from "../../src/store/store.js";
import {
  addressOf,
  type FreshDatabase,
  freshDatabase,
  POSTGRES_ADMIN_URL,
  PrivateRedis,
  postgresReachable,
  REDIS_URL,
  redisReachable,
  redisServerInstalled,
  reportSkip,
  type ServerProcess,
  servicesRequired,
  startServerProcess,
  stopAll,
  waitFor,
} from "../helpers/cluster.js";
import { botToken, FakeTelegram, telegramError } from "../helpers/fake-telegram.js";
import { api, registerUser, type TestUser } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import { type PickServer, SeqObserver, sequenceProblems } from "./seq-observer.js";

// Three real server processes (`node --import tsx src/main.ts`) on one fresh PostgreSQL database
// and one Redis: the suite's own redis-server when one is installed (so it can be restarted
// safely), else the shared REDIS_URL (and the restart case is skipped). The processes deliver to
// a fake Telegram, so the outbox runs for real too.

const JWT_SECRET = "cluster-test-secret-0123456789abcdef";
// The burst's size; larger values make a load run (CLUSTER_BURST=1000 CLUSTER_OBSERVERS=10).
const PER_WRITER = Number(process.env.CLUSTER_BURST ?? 200);
const OBSERVERS_PER_PROCESS = Number(process.env.CLUSTER_OBSERVERS ?? 3);
const SUITE = "cluster suite";

async function unreachable(): Promise<string | undefined> {
  if (!(await postgresReachable())) {
    return `PostgreSQL not reachable at ${addressOf(POSTGRES_ADMIN_URL, "5432")}`;
  }
  if (!redisServerInstalled() && !(await redisReachable())) {
    return `Redis not reachable at ${addressOf(REDIS_URL, "6379")}`;
  }
  return undefined;
}

function suite(): void {
  describe(SUITE, { timeout: 240_000 }, () => {
    let redis: PrivateRedis | undefined;
    let db: FreshDatabase | undefined;
    let store: Store | undefined;
    let telegram: FakeTelegram | undefined;
    let token: string;
    let channel: Channel;
    let user: TestUser;
    const processes: ServerProcess[] = [];
    /** Processes that are up, by name. */
    const alive = new Map<string, ServerProcess>();
    let env: Record<string, string>;

    const start = async (name: string) => {
      const proc = await startServerProcess(name, env);
      processes.push(proc);
      alive.set(name, proc);
      return proc;
    };
    const proc = (name: string): ServerProcess => {
      const found = alive.get(name);
      if (!found) throw new Error(`process ${name} is not up`);
      return found;
    };
    let turn = 0;
    const pick: PickServer = (exclude) => {
      const candidates = [...alive.values()].map((p) => p.wsUrl).filter((url) => url !== exclude);
      return candidates[turn++ % Math.max(candidates.length, 1)];
    };

    /** A fresh customer conversation (its first message is seq 1), stored from here. */
    const newConversation = async (): Promise<string> => {
      if (!store) throw new Error("no store");
      const { conversation } = await store.messages.ingest({
        channelId: channel.id,
        ownerId: user.id,
        source: "telegram",
        customerExternalId: String(100_000 + Math.floor(Math.random() * 1e9)),
        firstName: "Cluster",
        lastName: "Customer",
        username: null,
        externalMessageId: randomBytes(6).toString("hex"),
        content: "hello from the customer",
      });
      return conversation.id;
    };

    const observe = async (conversationId: string, perProcess: number, reconnect = false) => {
      const observers: SeqObserver[] = [];
      for (const p of alive.values()) {
        for (let i = 0; i < perProcess; i++) {
          observers.push(
            await SeqObserver.open(
              p.wsUrl,
              conversationId,
              user.access,
              reconnect ? pick : undefined,
            ),
          );
        }
      }
      return observers;
    };

    const chatSocket = (p: ServerProcess, conversationId: string) =>
      WsClient.connect(`${p.wsUrl}/ws/chat/${conversationId}/?token=${user.access}`);

    /** `count` chat_message frames from one socket, `gapMs` apart (0: all at once). */
    const burst = async (socket: WsClient, tag: string, count: number, gapMs: number) => {
      for (let i = 0; i < count; i++) {
        socket.send({ type: "chat_message", content: `${tag} ${i}`, client_id: `${tag}-${i}` });
        if (gapMs > 0) await sleep(gapMs);
      }
    };

    const assertSequences = (observers: SeqObserver[], last: number) => {
      for (const observer of observers) {
        const problems = sequenceProblems(observer.seqs, last);
        assert.equal(problems, undefined, `socket on ${observer.server}: ${problems}`);
      }
    };

    before(async () => {
      redis = await PrivateRedis.start();
      db = await freshDatabase();
      store = await createSqlStore({ databaseUrl: db.url });
      // Migrated once here, so the three processes do not race to create the schema.
      await store.migrate();
      telegram = await FakeTelegram.start();
      token = telegram.addBot(botToken());
      env = {
        DATABASE_URL: db.url,
        REDIS_URL: redis?.url ?? REDIS_URL,
        JWT_SECRET,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        DELIVERY_BASE_DELAY_MS: "20",
        SHUTDOWN_GRACE_MS: "8000",
      };
      const started = Date.now();
      await Promise.all(["a", "b", "c"].map(start));
      console.log(`figure: three server processes ready in ${Date.now() - started} ms`);
      user = await registerUser(proc("a"));
      channel = await store.channels.create({
        ownerId: user.id,
        platform: "telegram",
        name: "cluster_bot",
        externalId: randomBytes(6).toString("hex"),
        credentials: { botToken: token },
        mode: "webhook",
      });
    });

    after(async () => {
      await stopAll(processes);
      await store?.close();
      await db?.drop();
      await telegram?.close();
      await redis?.stop();
    });

    it("shows every socket on every process what is sent on any other", async () => {
      const id = await newConversation();
      const observers = await observe(id, 2);
      const lists = await Promise.all(
        [...alive.values()].map((p) =>
          WsClient.connect(`${p.wsUrl}/ws/conversations/?token=${user.access}`),
        ),
      );
      for (const list of lists) await list.next("conversations_list");
      const fromA = await chatSocket(proc("a"), id);
      const fromC = await chatSocket(proc("c"), id);
      const latencies: number[] = [];
      const sends: Array<() => Promise<unknown>> = [
        async () => fromA.send({ type: "chat_message", content: "from a" }),
        () =>
          api(proc("b"), "POST", `/api/conversations/${id}/messages/`, {
            token: user.access,
            body: { content: "from b over REST" },
          }),
        async () => fromC.send({ type: "chat_message", content: "from c" }),
      ];
      let seq = 1;
      for (const send of sends) {
        const sentAt = Date.now();
        await send();
        seq++;
        await Promise.all(observers.map((o) => o.waitForSeq(seq, 5000)));
        latencies.push(Math.max(...observers.map((o) => o.lastAt)) - sentAt);
      }
      assertSequences(observers, 4);
      for (const list of lists) {
        const updates = await list.collect("conversation_updated", 3, 5000);
        for (const update of updates) {
          assert.equal((update.conversation as { id: string }).id, id);
        }
      }
      console.log(
        `figure: one message to ${observers.length} sockets on 3 processes: ` +
          `${latencies.join(", ")} ms (send to last socket)`,
      );
      for (const o of observers) o.close();
      await Promise.all([fromA, fromC, ...lists].map((socket) => socket.close()));
    });

    it(`keeps 2 x ${PER_WRITER} concurrent messages in seq order on every socket of every process`, async () => {
      const total = 2 * PER_WRITER;
      const id = await newConversation();
      const observers = await observe(id, OBSERVERS_PER_PROCESS);
      const agentA = await chatSocket(proc("a"), id);
      const agentB = await chatSocket(proc("b"), id);
      const sendsBefore = telegram?.callsTo("sendMessage").length ?? 0;
      const started = Date.now();
      await Promise.all([burst(agentA, "a", PER_WRITER, 0), burst(agentB, "b", PER_WRITER, 0)]);
      await Promise.all(observers.map((o) => o.waitForSeq(total + 1, 30_000 + total * 20)));
      const elapsed = Math.max(...observers.map((o) => o.lastAt)) - started;
      assertSequences(observers, total + 1);
      for (const agent of [agentA, agentB]) {
        const frames = await agent.collect("chat_message", total, 5000);
        const seqs = frames.map((f) => (f.message as { seq: number }).seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: total }, (_, i) => i + 2),
        );
      }
      console.log(
        `figure: ${total} messages (2 writers on 2 processes) to ${observers.length + 2} sockets ` +
          `on 3 processes in ${elapsed} ms (${Math.round((total * 1000) / elapsed)} msg/s)`,
      );
      // Every one of them went to the platform once, whichever process took it.
      const calls = await telegram?.waitForCalls(
        "sendMessage",
        sendsBefore + total,
        30_000 + total * 20,
      );
      const texts = (calls ?? []).slice(sendsBefore).map((c) => String(c.body.text));
      assert.equal(new Set(texts).size, total);
      assert.equal(texts.length, total);
      for (const o of observers) o.close();
      await Promise.all([agentA.close(), agentB.close()]);
    });

    it("hands each pending send to exactly one process", async () => {
      if (!telegram || !store) throw new Error("not set up");
      const fake = telegram;
      const id = await newConversation();
      // The first 45 sends are refused with retry_after=1, so that all three workers wake for
      // the same due jobs a second later and race for them.
      fake.script(
        "sendMessage",
        ...Array.from({ length: 45 }, () =>
          telegramError(429, "Too Many Requests: retry later", { retry_after: 1 }),
        ),
      );
      const before = fake.callsTo("sendMessage").length;
      const names = [...alive.keys()];
      const posts: Array<Promise<unknown>> = [];
      for (let i = 0; i < 60; i++) {
        const p = proc(names[i % names.length] ?? "a");
        posts.push(
          api(p, "POST", `/api/conversations/${id}/messages/`, {
            token: user.access,
            body: { content: `outbox ${i}`, client_id: `outbox-${i}` },
          }),
        );
      }
      await Promise.all(posts);
      const calls = await fake.waitForCalls("sendMessage", before + 60 + 45, 30_000);
      await sleep(1500); // any second take of a job would show up by now
      const mine = fake.callsTo("sendMessage").slice(before);
      const accepted = mine.slice(45).map((c) => String(c.body.text));
      assert.equal(calls.length - before, 105);
      assert.equal(accepted.length, 60, "one accepted send per message");
      assert.equal(new Set(accepted).size, 60, "no message sent twice");
      const page = await store.messages.after(id, 1, 100);
      assert.equal(page.messages.length, 60);
      assert.ok(page.messages.every((m) => m.deliveryStatus === "sent"));
      const takers = new Set(
        processes.filter((p) => p.logged("send failed, will retry").length > 0).map((p) => p.name),
      );
      console.log(
        `figure: 60 sends, 45 retried; first attempts made by processes ${[...takers].join(", ")}`,
      );
    });

    it("moves the clients of a SIGKILLed process to the others with nothing lost", async () => {
      const id = await newConversation();
      const observers = await observe(id, 3, true);
      const victims = observers.filter((o) => o.server === proc("c").wsUrl);
      const agentA = await chatSocket(proc("a"), id);
      const agentB = await chatSocket(proc("b"), id);
      const sending = Promise.all([burst(agentA, "ka", 150, 4), burst(agentB, "kb", 150, 4)]);
      await waitFor(() => victims.every((o) => o.last >= 60), "victims saw 60 messages", 15_000);
      const victim = proc("c");
      const killedAt = Date.now();
      victim.kill("SIGKILL");
      alive.delete("c");
      await sending;
      await Promise.all(observers.map((o) => o.waitForSeq(301, 30_000)));
      assertSequences(observers, 301);
      for (const o of victims) {
        assert.equal(o.reconnects, 1, "each client of the dead process reconnected once");
        assert.notEqual(o.server, victim.wsUrl);
      }
      const caughtUp = Math.max(...victims.map((o) => o.lastAt)) - killedAt;
      console.log(
        `figure: SIGKILL of 1 of 3 processes mid-burst; its ${victims.length} clients resumed ` +
          `elsewhere, all 301 seqs exactly once, ${caughtUp} ms from kill to last frame`,
      );
      for (const o of observers) o.close();
      await Promise.all([agentA.close(), agentB.close()]);
      await start("c2");
    });

    it("catches every socket up after Redis restarts mid-burst", async (t) => {
      if (!redis) {
        t.skip("no redis-server of the suite's own to restart");
        return;
      }
      const id = await newConversation();
      const observers = await observe(id, 2);
      const agentA = await chatSocket(proc("a"), id);
      const agentB = await chatSocket(proc("b"), id);
      const sending = Promise.all([burst(agentA, "ra", 150, 6), burst(agentB, "rb", 150, 6)]);
      await waitFor(() => observers.every((o) => o.last >= 40), "40 messages everywhere", 15_000);
      const resyncsBefore = [...alive.values()].map((p) => p.logged("bus resync").length);
      const failedBefore = [...alive.values()].map((p) => p.logged("bus publish failed").length);
      const downAt = Date.now();
      await redis.down();
      // While the bus is down every process says it is not ready, so a balancer looks elsewhere.
      await waitFor(
        async () => {
          const answers = await Promise.all(
            [...alive.values()].map((p) => api(p, "GET", "/readyz").then((r) => r.status)),
          );
          return answers.every((status) => status === 503);
        },
        "every process unready while Redis is down",
        15_000,
      );
      await sleep(Math.max(0, 800 - (Date.now() - downAt)));
      await redis.up();
      const backAt = Date.now();
      await sending;
      await Promise.all(observers.map((o) => o.waitForSeq(301, 30_000)));
      assertSequences(observers, 301);
      for (const o of observers) assert.deepEqual(o.closeCodes, [], "no socket was dropped");
      [...alive.values()].forEach((p, i) => {
        assert.ok(p.logged("bus resync").length > (resyncsBefore[i] ?? 0), `${p.name} resynced`);
      });
      // The outage really lost live events: those sockets got them from the store.
      const failed = [...alive.values()]
        .map((p, i) => p.logged("bus publish failed").length - (failedBefore[i] ?? 0))
        .reduce((x, y) => x + y, 0);
      assert.ok(failed > 0, "some publishes failed while Redis was down");
      // Each connection has its own backoff: readiness follows within a few seconds.
      await waitFor(
        async () => {
          const answers = await Promise.all(
            [...alive.values()].map((p) => api(p, "GET", "/readyz").then((r) => r.status)),
          );
          return answers.every((status) => status === 200);
        },
        "every process ready again",
        8000,
      );
      const caughtUp = Math.max(...observers.map((o) => o.lastAt)) - backAt;
      console.log(
        `figure: Redis down ${backAt - downAt} ms mid-burst (${failed} publishes failed); ` +
          `${observers.length} sockets on 3 processes ended ` +
          `with all 301 seqs in order, last frame ${caughtUp} ms after Redis was back`,
      );
      for (const o of observers) o.close();
      await Promise.all([agentA.close(), agentB.close()]);
    });

    it("drains on SIGTERM: sockets closed with 1001, pending sends finished, exit 0", async () => {
      if (!telegram || !store) throw new Error("not set up");
      const target = proc("c2");
      const id = await newConversation();
      const sockets = await Promise.all([
        chatSocket(target, id),
        chatSocket(target, id),
        WsClient.connect(`${target.wsUrl}/ws/conversations/?token=${user.access}`),
      ]);
      for (const socket of sockets) await socket.next();
      // A send that is still with the platform when the signal comes.
      telegram.script("sendMessage", {
        status: 200,
        body: { ok: true, result: { message_id: 1, date: 0, chat: { id: 1, type: "private" } } },
        delayMs: 1500,
      });
      const before = telegram.callsTo("sendMessage").length;
      const posted = await api<{ id: string }>(
        target,
        "POST",
        `/api/conversations/${id}/messages/`,
        {
          token: user.access,
          body: { content: "in flight at shutdown" },
        },
      );
      assert.equal(posted.status, 201);
      await telegram.waitForCalls("sendMessage", before + 1, 5000);
      const signalledAt = Date.now();
      target.kill("SIGTERM");
      alive.delete("c2");
      const closes = await Promise.all(
        sockets.map((s) => Promise.race([s.closed, sleep(5000).then(() => ({ code: -1 }))])),
      );
      assert.deepEqual(
        closes.map((c) => c.code),
        [1001, 1001, 1001],
      );
      const exit = await Promise.race([target.exited, sleep(10_000).then(() => undefined)]);
      const exitMs = Date.now() - signalledAt;
      assert.deepEqual(exit, { code: 0, signal: null });
      await assert.rejects(WsClient.connect(`${target.wsUrl}/ws/conversations/?token=x`));
      const message = await store.messages.findById(posted.body.id);
      assert.equal(message?.deliveryStatus, "sent", "the send in flight was recorded");
      console.log(
        `figure: SIGTERM with 3 sockets and a 1.5 s send in flight: 1001 to all, exit 0 after ${exitMs} ms`,
      );
    });
  });
}

const reason = await unreachable();
if (reason === undefined) {
  suite();
} else if (servicesRequired()) {
  it(`${SUITE} needs PostgreSQL and Redis`, () => {
    throw new Error(reason);
  });
} else {
  reportSkip(SUITE, reason);
}
