import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hubSignature } from "../helpers/fake-instagram.js";
import { telegramError } from "../helpers/fake-telegram.js";
import { delta, type Scrape, scrape } from "../helpers/metrics.js";
import {
  chatUrl,
  ingest,
  listUrl,
  openChat,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import {
  APP_SECRET,
  connectInstagram,
  connectTelegram,
  eventually,
  instagramBody,
  type Platforms,
  postInstagram,
  postTelegram,
  privateMessage,
  startFakes,
  startPlatformServer,
  telegramUser,
} from "../platforms/support.js";

// protocol.md section 9: `GET /metrics` with the contract's names, and figures that move by
// exactly one per event.

const TOKEN = "metrics-token-for-the-tests-0123";

/** Scrapes until `check` holds (a socket's close is counted once the server saw it). */
async function settle(server: TestServer, check: (s: Scrape) => boolean): Promise<Scrape> {
  return eventually(async () => {
    const s = await scrape(server, TOKEN);
    return check(s) ? s : undefined;
  });
}

describe("metrics", () => {
  let server: TestServer;
  let user: TestUser;

  before(async () => {
    server = await startServer({ env: { METRICS_TOKEN: TOKEN } });
    user = await registerUser(server);
  });
  after(() => server.close());

  it("needs the bearer token when METRICS_TOKEN is set", async () => {
    const none = await fetch(`${server.baseUrl}/metrics`);
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), { error: "Invalid metrics token", code: "unauthorized" });
    const wrong = await fetch(`${server.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    assert.equal(wrong.status, 401);
    const right = await fetch(`${server.baseUrl}/metrics/`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(right.status, 200);
    assert.match(String(right.headers.get("content-type")), /^text\/plain; version=0\.0\.4/);
  });

  it("is open without METRICS_TOKEN", async () => {
    const open = await startServer();
    try {
      const res = await fetch(`${open.baseUrl}/metrics`);
      assert.equal(res.status, 200);
    } finally {
      await open.close();
    }
  });

  it("names every metric of the contract with its type, plus the runtime's", async () => {
    const s = await scrape(server, TOKEN);
    const expected: Record<string, string> = {
      fiko_websocket_connections: "gauge",
      fiko_websocket_connects_total: "counter",
      fiko_websocket_closes_total: "counter",
      fiko_websocket_frames_received_total: "counter",
      fiko_websocket_frames_sent_total: "counter",
      fiko_messages_stored_total: "counter",
      fiko_fanout_seconds: "histogram",
      fiko_webhook_requests_total: "counter",
      fiko_outbox_pending: "gauge",
      fiko_outbox_sends_total: "counter",
      fiko_bus_up: "gauge",
      // Automatic answers (docs/operations.md), registered whether or not a model is configured.
      fiko_ai_answers_total: "counter",
      fiko_ai_request_seconds: "histogram",
      process_cpu_seconds_total: "counter",
      process_resident_memory_bytes: "gauge",
      nodejs_eventloop_lag_seconds: "gauge",
      nodejs_eventloop_lag_p99_seconds: "gauge",
      nodejs_heap_size_used_bytes: "gauge",
      nodejs_gc_duration_seconds: "histogram",
    };
    for (const [name, type] of Object.entries(expected)) {
      assert.equal(s.types.get(name), type, name);
    }
    const own = [...s.types.keys()].filter((name) => name.startsWith("fiko_"));
    assert.deepEqual(
      own.sort(),
      Object.keys(expected)
        .filter((n) => n.startsWith("fiko_"))
        .sort(),
    );
    assert.equal(s.value("fiko_bus_up"), 1);
  });

  it("counts a chat socket's life: connect, frames both ways, close", async () => {
    const { id } = (await ingest(server, user.id, "Hi")).conversation;
    const s0 = await scrape(server, TOKEN);
    const { client } = await openChat(server, id, user.access);
    const s1 = await scrape(server, TOKEN);
    assert.equal(delta(s0, s1, "fiko_websocket_connections", { kind: "chat" }), 1);
    assert.equal(delta(s0, s1, "fiko_websocket_connects_total", { kind: "chat" }), 1);
    assert.equal(delta(s0, s1, "fiko_websocket_connections", { kind: "conversations" }), 0);
    const sent = (s: Scrape, type: string) => s.value("fiko_websocket_frames_sent_total", { type });
    assert.equal(sent(s1, "connection_established") - sent(s0, "connection_established"), 1);
    assert.equal(sent(s1, "recent_messages") - sent(s0, "recent_messages"), 1);

    client.send({ type: "typing", is_typing: true });
    client.send({ type: "mark_read" });
    await client.next("messages_read");
    client.send("not json");
    client.send({ type: "no_such_frame" });
    client.send({ type: "get_messages", limit: 1000 });
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await client.collect("error", 4);
    const s2 = await scrape(server, TOKEN);
    const received = (type: string) =>
      delta(s1, s2, "fiko_websocket_frames_received_total", { type });
    assert.equal(received("typing"), 1);
    assert.equal(received("mark_read"), 1);
    assert.equal(received("get_messages"), 0);
    assert.equal(received("invalid"), 4);
    assert.equal(sent(s2, "error") - sent(s1, "error"), 4);
    assert.equal(sent(s2, "messages_read") - sent(s1, "messages_read"), 1);
    // Typing goes to the other sockets only: none here.
    assert.equal(sent(s2, "typing_indicator") - sent(s1, "typing_indicator"), 0);

    client.socket.close(1000);
    const s3 = await settle(
      server,
      (s) =>
        s.value("fiko_websocket_connections", { kind: "chat" }) ===
        s0.value("fiko_websocket_connections", { kind: "chat" }),
    );
    assert.equal(delta(s0, s3, "fiko_websocket_closes_total", { code: "1000" }), 1);
    assert.equal(delta(s0, s3, "fiko_websocket_connects_total", { kind: "chat" }), 1);
  });

  it("counts a list socket, and a refused socket only as a close", async () => {
    const s0 = await scrape(server, TOKEN);
    const list = await WsClient.connect(listUrl(server, user.access));
    await list.next("conversations_list");
    const s1 = await scrape(server, TOKEN);
    assert.equal(delta(s0, s1, "fiko_websocket_connections", { kind: "conversations" }), 1);
    assert.equal(delta(s0, s1, "fiko_websocket_connects_total", { kind: "conversations" }), 1);
    list.send({ type: "refresh_conversations" });
    await list.next("conversations_list");

    const refused = await WsClient.connect(listUrl(server, "not-a-token"));
    assert.equal((await refused.closed).code, 4001);
    const forbidden = await WsClient.connect(chatUrl(server, "c_nope", user.access));
    assert.equal((await forbidden.closed).code, 4003);
    list.socket.close(4000);
    const s2 = await settle(
      server,
      (s) => delta(s0, s, "fiko_websocket_connections", { kind: "conversations" }) === 0,
    );
    assert.equal(delta(s0, s2, "fiko_websocket_closes_total", { code: "4001" }), 1);
    assert.equal(delta(s0, s2, "fiko_websocket_closes_total", { code: "4003" }), 1);
    assert.equal(delta(s0, s2, "fiko_websocket_closes_total", { code: "4000" }), 1);
    assert.equal(delta(s0, s2, "fiko_websocket_connects_total", { kind: "conversations" }), 1);
    assert.equal(delta(s0, s2, "fiko_websocket_connects_total", { kind: "chat" }), 0);
    assert.equal(
      delta(s0, s2, "fiko_websocket_frames_received_total", { type: "refresh_conversations" }),
      1,
    );
  });

  it("counts stored messages by type and source, once each, and their fan-out", async () => {
    const s0 = await scrape(server, TOKEN);
    const { conversation } = await ingest(server, user.id, "no socket yet", {
      source: "instagram",
    });
    const s1 = await scrape(server, TOKEN);
    const stored = (a: Scrape, b: Scrape, type: string, source: string) =>
      delta(a, b, "fiko_messages_stored_total", { type, source });
    assert.equal(stored(s0, s1, "customer", "instagram"), 1);
    // Nobody listens: no fan-out to measure.
    assert.equal(delta(s0, s1, "fiko_fanout_seconds_count"), 0);

    const { client } = await openChat(server, conversation.id, user.access);
    client.send({ type: "chat_message", content: "Hello", client_id: "m-1" });
    await client.next("chat_message");
    client.send({ type: "chat_message", content: "Hello", client_id: "m-1" });
    await client.next("chat_message");
    await ingest(
      server,
      user.id,
      "second",
      { source: "instagram", externalId: "1001" },
      {
        channelId: (await ingest(server, user.id, "x", { source: "instagram" })).channelId,
      },
    );
    const s2 = await scrape(server, TOKEN);
    assert.equal(stored(s1, s2, "support", "instagram"), 1, "the retry stores nothing");
    assert.equal(stored(s1, s2, "customer", "instagram"), 2);
    assert.equal(stored(s1, s2, "customer", "telegram"), 0);
    // The reply reached this process's socket; the other conversation has none.
    assert.equal(delta(s1, s2, "fiko_fanout_seconds_count"), 1);
    assert.ok(delta(s1, s2, "fiko_fanout_seconds_sum") >= 0);
    client.socket.close();
  });

  it("shows pending sends (nothing sends them: no delivery worker here)", async () => {
    const { conversation } = await ingest(server, user.id, "please answer");
    const s0 = await scrape(server, TOKEN);
    const { client } = await openChat(server, conversation.id, user.access);
    client.send({ type: "chat_message", content: "one" });
    client.send({ type: "chat_message", content: "two" });
    await client.collect("chat_message", 2);
    const s1 = await scrape(server, TOKEN);
    assert.equal(delta(s0, s1, "fiko_outbox_pending"), 2);
    client.socket.close();
  });
});

describe("metrics of the platforms", () => {
  let fakes: Platforms;
  let server: TestServer;
  let user: TestUser;

  before(async () => {
    fakes = await startFakes();
    server = await startPlatformServer(fakes, { env: { METRICS_TOKEN: TOKEN } });
    user = await registerUser(server);
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  const webhooks = (a: Scrape, b: Scrape, platform: string, outcome: string) =>
    delta(a, b, "fiko_webhook_requests_total", { platform, outcome });

  it("counts Telegram webhooks as accepted, duplicate or rejected", async () => {
    const channel = await connectTelegram(server, fakes, user);
    const update = privateMessage(telegramUser());
    const s0 = await scrape(server, TOKEN);
    assert.equal((await postTelegram(server, channel.id, channel.secret, update)).status, 200);
    assert.equal((await postTelegram(server, channel.id, channel.secret, update)).status, 200);
    assert.equal((await postTelegram(server, channel.id, "wrong", update)).status, 401);
    assert.equal((await postTelegram(server, channel.id, channel.secret, "{nope")).status, 400);
    const s1 = await scrape(server, TOKEN);
    assert.equal(webhooks(s0, s1, "telegram", "accepted"), 1);
    assert.equal(webhooks(s0, s1, "telegram", "duplicate"), 1);
    assert.equal(webhooks(s0, s1, "telegram", "rejected"), 2);
    assert.equal(
      delta(s0, s1, "fiko_messages_stored_total", { type: "customer", source: "telegram" }),
      1,
    );
  });

  it("counts Instagram webhooks as accepted, duplicate or rejected", async () => {
    const account = await connectInstagram(server, user);
    const body = instagramBody(account.accountId, [{ sender: "9001", text: "hi", mid: "m.1" }]);
    const s0 = await scrape(server, TOKEN);
    assert.equal((await postInstagram(server, body)).status, 200);
    assert.equal((await postInstagram(server, body)).status, 200);
    const raw = JSON.stringify(body);
    assert.equal(
      (await postInstagram(server, raw, hubSignature(raw, `${APP_SECRET}x`))).status,
      401,
    );
    const s1 = await scrape(server, TOKEN);
    assert.equal(webhooks(s0, s1, "instagram", "accepted"), 1);
    assert.equal(webhooks(s0, s1, "instagram", "duplicate"), 1);
    assert.equal(webhooks(s0, s1, "instagram", "rejected"), 1);
  });

  it("counts send attempts by result", async () => {
    const channel = await connectTelegram(server, fakes, user);
    const customer = telegramUser();
    await postTelegram(server, channel.id, channel.secret, privateMessage(customer));
    const list = await eventually(async () => {
      const res = await fetch(`${server.baseUrl}/api/conversations/?source=telegram`, {
        headers: { authorization: `Bearer ${user.access}` },
      });
      const body = (await res.json()) as { conversations: Array<{ id: string; title: string }> };
      return body.conversations.find((c) => c.title.includes("John"));
    });
    const s0 = await scrape(server, TOKEN);
    fakes.telegram.script("sendMessage", telegramError(500, "Internal Server Error"));
    const { client } = await openChat(server, list.id, user.access);
    client.send({ type: "chat_message", content: "retried then sent" });
    await eventually(async () => {
      const f = client.frames.find(
        (frame) =>
          frame.type === "message_updated" &&
          (frame.message as { delivery_status: string }).delivery_status === "sent",
      );
      return f;
    }, 5000);
    fakes.telegram.script(
      "sendMessage",
      telegramError(403, "Forbidden: bot was blocked by the user"),
    );
    client.send({ type: "chat_message", content: "refused for good" });
    await eventually(
      () =>
        client.frames.find(
          (frame) =>
            frame.type === "message_updated" &&
            (frame.message as { delivery_status: string }).delivery_status === "failed",
        ),
      5000,
    );
    const s1 = await settle(server, (s) => s.value("fiko_outbox_pending") === 0);
    const sends = (result: string) =>
      delta(s0, s1, "fiko_outbox_sends_total", { platform: "telegram", result });
    assert.equal(sends("retry"), 1);
    assert.equal(sends("sent"), 1);
    assert.equal(sends("failed"), 1);
    client.socket.close();
  });
});
