import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { OutboxWorker, type OutboxWorkerOptions } from "../../src/delivery/outbox-worker.js";
import { platformSender } from "../../src/delivery/platform-sender.js";
import type { Channel, Message, User } from "../../src/domain/types.js";
import { InstagramClient } from "../../src/platforms/instagram/instagram-client.js";
import { TelegramClient } from "../../src/platforms/telegram/telegram-client.js";
import { createSqlStore } from "../../src/store/sql/create-store.js";
import type { OutboxStore, Store } from "../../src/store/store.js";
import { FakeInstagram, INSTAGRAM_VERSION, OUTSIDE_WINDOW } from "../helpers/fake-instagram.js";
import { botToken, FakeTelegram, telegramError } from "../helpers/fake-telegram.js";

// The worker against a real SQLite store and the fake platforms: exact requests, attempts,
// timings and the message updates it pushes.

const log = pino({ level: "silent" });
const BASE_DELAY_MS = 20;

describe("outbox worker", () => {
  let telegram: FakeTelegram;
  let instagram: FakeInstagram;
  let store: Store;
  let owner: User;
  let token: string;
  let tgChannel: Channel;
  let igChannel: Channel;
  let notified: Message[];
  let workers: OutboxWorker[];
  let nextCustomer = 1000;

  before(async () => {
    [telegram, instagram] = await Promise.all([FakeTelegram.start(), FakeInstagram.start()]);
    store = await createSqlStore({ sqlitePath: ":memory:" });
    await store.migrate();
    owner = await store.users.create({
      username: "owner",
      passwordHash: "x",
      firstName: "O",
      lastName: "W",
    });
    token = telegram.addBot(botToken());
    tgChannel = await store.channels.create({
      ownerId: owner.id,
      platform: "telegram",
      name: "@bot",
      externalId: token.split(":")[0] ?? "",
      credentials: { botToken: token, secretToken: "hook" },
      mode: "webhook",
    });
    igChannel = await store.channels.create({
      ownerId: owner.id,
      platform: "instagram",
      name: "shop",
      externalId: "17841400000000001",
      credentials: { accessToken: "IGAAworkertoken" },
      mode: "webhook",
    });
  });
  after(async () => {
    await store.close();
    await Promise.all([telegram.close(), instagram.close()]);
  });
  beforeEach(() => {
    notified = [];
    workers = [];
  });

  function worker(overrides: Partial<OutboxWorkerOptions> = {}): OutboxWorker {
    const w = new OutboxWorker({
      outbox: store.outbox,
      channels: store.channels,
      send: platformSender({
        telegram: (c) =>
          new TelegramClient(c.credentials.botToken ?? "", { apiRoot: telegram.apiRoot }),
        instagram: new InstagramClient({
          apiRoot: instagram.apiRoot,
          apiVersion: INSTAGRAM_VERSION,
        }),
      }),
      notify: async (m) => {
        notified.push(m);
      },
      log,
      maxAttempts: 3,
      baseDelayMs: BASE_DELAY_MS,
      ...overrides,
    });
    workers.push(w);
    return w;
  }

  /** A support reply queued for delivery to a new customer of `channel`. */
  async function queue(channel: Channel, content: string) {
    const customer = String(nextCustomer++);
    const { conversation } = await store.messages.ingest({
      channelId: channel.id,
      ownerId: owner.id,
      source: channel.platform,
      customerExternalId: customer,
      firstName: "C",
      lastName: String(customer),
      username: null,
      externalMessageId: `in-${customer}`,
      content: "question",
    });
    const { message } = await store.messages.append({
      conversationId: conversation.id,
      type: "support",
      senderId: owner.id,
      content,
      clientId: null,
      deliver: true,
    });
    assert.equal(message.deliveryStatus, "pending");
    return { message, customer };
  }

  async function settled(id: string, timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await store.messages.findById(id);
      if (m && m.deliveryStatus !== "pending" && notified.some((n) => n.id === id)) return m;
      if (Date.now() > deadline) throw new Error(`message ${id} still ${m?.deliveryStatus}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  const sendsTo = (chatId: string) =>
    telegram.callsTo("sendMessage").filter((c) => c.body.chat_id === chatId);

  const stopAll = () => Promise.all(workers.map((w) => w.stop()));

  it("sends a queued reply once and reports it sent", async () => {
    const { message, customer } = await queue(tgChannel, "Your parcel left the warehouse");
    worker().start();
    const done = await settled(message.id);
    await stopAll();
    assert.equal(done.deliveryStatus, "sent");
    assert.equal(done.deliveryError, null);
    assert.deepEqual(
      sendsTo(customer).map((c) => c.body),
      [{ chat_id: customer, text: "Your parcel left the warehouse" }],
    );
    assert.deepEqual(
      notified.map((m) => [m.id, m.deliveryStatus]),
      [[message.id, "sent"]],
    );
    assert.equal(await store.outbox.nextDueAt(), undefined);
  });

  it("retries 500s with growing pauses and sends once on the third try", async () => {
    const { message, customer } = await queue(tgChannel, "third time lucky");
    telegram.script(
      "sendMessage",
      telegramError(500, "Internal Server Error"),
      telegramError(500, "Internal Server Error"),
    );
    worker().start();
    const done = await settled(message.id);
    await stopAll();
    assert.equal(done.deliveryStatus, "sent");
    const calls = sendsTo(customer);
    assert.equal(calls.length, 3);
    const [a, b, c] = calls.map((call) => call.at);
    // Equal jitter: attempt n waits between half and all of base * 2^(n-1).
    assert.ok((b ?? 0) - (a ?? 0) >= BASE_DELAY_MS / 2, `first pause ${(b ?? 0) - (a ?? 0)}`);
    assert.ok((c ?? 0) - (b ?? 0) >= BASE_DELAY_MS, `second pause ${(c ?? 0) - (b ?? 0)}`);
    assert.deepEqual(
      notified.map((m) => m.deliveryStatus),
      ["sent"],
    );
  });

  it("waits at least Telegram's retry_after after a 429", async () => {
    const { message, customer } = await queue(tgChannel, "slow down");
    telegram.script(
      "sendMessage",
      telegramError(429, "Too Many Requests: retry after 1", { retry_after: 1 }),
    );
    worker().start();
    const done = await settled(message.id, 4000);
    await stopAll();
    assert.equal(done.deliveryStatus, "sent");
    const [first, second] = sendsTo(customer).map((c) => c.at);
    assert.ok((second ?? 0) - (first ?? 0) >= 1000, `pause ${(second ?? 0) - (first ?? 0)}`);
  });

  it("does not resend a reply whose send timed out: it may have arrived", async () => {
    const { message, customer } = await queue(tgChannel, "did this arrive?");
    telegram.script("sendMessage", { status: 200, body: { ok: true, result: {} }, delayMs: 1500 });
    worker({
      send: platformSender({
        telegram: (c) =>
          new TelegramClient(c.credentials.botToken ?? "", {
            apiRoot: telegram.apiRoot,
            requestTimeoutSeconds: 1,
          }),
        instagram: new InstagramClient({
          apiRoot: instagram.apiRoot,
          apiVersion: INSTAGRAM_VERSION,
        }),
      }),
    }).start();
    const done = await settled(message.id, 4000);
    await stopAll();
    assert.equal(done.deliveryStatus, "failed");
    assert.equal(
      done.deliveryError,
      "Telegram did not answer in time; it may have been delivered, so it was not sent again",
    );
    assert.equal(sendsTo(customer).length, 1);
  });

  it("fails at once when the customer blocked the bot", async () => {
    const { message, customer } = await queue(tgChannel, "are you there?");
    telegram.script("sendMessage", telegramError(403, "Forbidden: bot was blocked by the user"));
    worker().start();
    const done = await settled(message.id);
    await stopAll();
    assert.equal(done.deliveryStatus, "failed");
    assert.equal(done.deliveryError, "The customer blocked the bot");
    assert.equal(sendsTo(customer).length, 1);
    assert.deepEqual(
      notified.map((m) => [m.deliveryStatus, m.deliveryError]),
      [["failed", "The customer blocked the bot"]],
    );
  });

  it("gives up after the last allowed attempt with a readable reason", async () => {
    const { message, customer } = await queue(tgChannel, "never arrives");
    telegram.script(
      "sendMessage",
      telegramError(502, "Bad Gateway"),
      telegramError(502, "Bad Gateway"),
      telegramError(502, "Bad Gateway"),
    );
    worker().start();
    const done = await settled(message.id);
    await stopAll();
    assert.equal(done.deliveryStatus, "failed");
    assert.equal(done.deliveryError, "Telegram server error (HTTP 502) (gave up after 3 attempts)");
    assert.equal(sendsTo(customer).length, 3);
  });

  it("sends Instagram replies and fails outside the 24-hour window at once", async () => {
    const w = worker();
    w.start();
    const ok = await queue(igChannel, "Thanks for writing!");
    w.wake();
    await settled(ok.message.id);
    instagram.script("send", OUTSIDE_WINDOW);
    const late = await queue(igChannel, "Sorry for the delay");
    w.wake();
    const failed = await settled(late.message.id);
    await stopAll();
    const calls = instagram.callsOf("send");
    const okCall = calls.find((c) => c.recipientId === ok.customer);
    assert.deepEqual(okCall?.body, {
      recipient: { id: ok.customer },
      message: { text: "Thanks for writing!" },
    });
    assert.equal(okCall?.authorization, "Bearer IGAAworkertoken");
    assert.equal(okCall?.path, `/${INSTAGRAM_VERSION}/17841400000000001/messages`);
    assert.equal(failed.deliveryStatus, "failed");
    assert.equal(failed.deliveryError, "Outside Instagram's 24-hour reply window");
    assert.equal(calls.filter((c) => c.recipientId === late.customer).length, 1);
  });

  it("fails a reply whose channel was removed", async () => {
    const channel = await store.channels.create({
      ownerId: owner.id,
      platform: "telegram",
      name: "@gone",
      externalId: "gone-bot",
      credentials: { botToken: botToken(), secretToken: "x" },
      mode: "webhook",
    });
    const { message } = await queue(channel, "hello?");
    await store.channels.remove(owner.id, channel.id);
    worker().start();
    const done = await settled(message.id);
    await stopAll();
    assert.equal(done.deliveryError, "The channel was removed");
  });

  it("takes over a crashed worker's job when its lease runs out, and sends it once", async () => {
    const { message, customer } = await queue(tgChannel, "after the crash");
    // A worker that claimed the job and died: its lease is short here.
    const claimed = await store.outbox.claimDue(Date.now(), 10, 300);
    assert.deepEqual(
      claimed.map((j) => j.messageId),
      [message.id],
    );
    const started = Date.now();
    worker({ maxIdleMs: 10_000 }).start();
    const done = await settled(message.id);
    await stopAll();
    assert.equal(done.deliveryStatus, "sent");
    assert.ok(Date.now() - started >= 250, "sent before the lease ran out");
    assert.equal(sendsTo(customer).length, 1);
  });

  it("wakes for a new job instead of waiting for its idle timer", async () => {
    const w = worker({ maxIdleMs: 60_000 });
    w.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { message } = await queue(tgChannel, "quick");
    const queuedAt = Date.now();
    w.wake();
    await settled(message.id);
    assert.ok(Date.now() - queuedAt < 1000);
    await stopAll();
  });

  it("finishes the send in flight when stopped, and claims nothing after", async () => {
    const { message, customer } = await queue(tgChannel, "in flight");
    telegram.script("sendMessage", {
      status: 200,
      body: { ok: true, result: { message_id: 1, date: 0, chat: { id: 1, type: "private" } } },
      delayMs: 300,
    });
    const w = worker();
    w.start();
    await telegram.waitForCalls("sendMessage", telegram.callsTo("sendMessage").length + 1);
    await w.stop();
    const stored = await store.messages.findById(message.id);
    assert.equal(stored?.deliveryStatus, "sent");
    assert.equal(sendsTo(customer).length, 1);
    const later = await queue(tgChannel, "after stop");
    w.wake();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await store.messages.findById(later.message.id))?.deliveryStatus, "pending");
    // Leave the queue empty for the next test.
    worker().start();
    await settled(later.message.id);
    await stopAll();
  });

  it("records a send whose first write failed without sending it again", async () => {
    const { message, customer } = await queue(tgChannel, "written on the second try");
    const real = store.outbox;
    let failures = 0;
    const flaky: OutboxStore = {
      claimDue: (now, limit, leaseMs) => real.claimDue(now, limit, leaseMs),
      markSent: (id) => {
        if (failures++ === 0) return Promise.reject(new Error("SQLITE_BUSY: database is locked"));
        return real.markSent(id);
      },
      markRetry: (id, at, error) => real.markRetry(id, at, error),
      markFailed: (id, error) => real.markFailed(id, error),
      nextDueAt: () => real.nextDueAt(),
      countPending: () => real.countPending(),
      markStep: (id, step) => real.markStep(id, step),
    };
    worker({ outbox: flaky }).start();
    const done = await settled(message.id);
    await stopAll();
    assert.equal(done.deliveryStatus, "sent");
    assert.equal(failures, 2);
    assert.equal(sendsTo(customer).length, 1);
  });

  it("never sends one job twice with several workers on one store", async () => {
    const queued = [];
    for (let i = 0; i < 12; i++) queued.push(await queue(tgChannel, `bulk ${i}`));
    for (let i = 0; i < 3; i++) worker({ concurrency: 4 }).start();
    for (const { message } of queued) await settled(message.id);
    await stopAll();
    for (const { customer } of queued) assert.equal(sendsTo(customer).length, 1, customer);
  });
});
