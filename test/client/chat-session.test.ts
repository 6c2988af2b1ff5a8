import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, afterEach, before, describe, it } from "node:test";
import { type ApiError, type AuthEvent, memoryTokenStorage } from "../../client/index.js";
import {
  ingest,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import {
  closeClients,
  cutServerSockets,
  PASSWORD,
  range,
  restartServer,
  sdkClient,
  tappedWebSocket,
  until,
  waitFor,
  watchSeqs,
  within,
} from "./support.js";

afterEach(closeClients);

/** Customer messages `from..to` into the conversation of `channelId` (customer 1001). */
async function burst(
  server: TestServer,
  ownerId: number,
  channelId: string,
  from: number,
  to: number,
) {
  for (let i = from; i <= to; i++) await ingest(server, ownerId, `m${i}`, {}, { channelId });
}

describe("SDK chat session", () => {
  let server: TestServer;
  let user: TestUser;

  before(async () => {
    server = await startServer();
    user = await registerUser(server);
  });
  after(() => server.close());

  it("shows the snapshot, live messages and a sent reply, each once and in order", async () => {
    const first = await ingest(server, user.id, "m1", { externalId: "2001" });
    const client = sdkClient(server);
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    const seen = watchSeqs(chat);
    await waitFor(chat, (s) => s.status === "open", "open");
    for (let i = 2; i <= 5; i++) {
      await ingest(
        server,
        user.id,
        `m${i}`,
        { externalId: "2001" },
        { channelId: first.channelId },
      );
    }
    await waitFor(chat, (s) => s.messages.length === 5, "5 messages");
    const sending = chat.send("hello back");
    assert.deepEqual(
      chat.getSnapshot().pending.map((p) => [p.content, p.state]),
      [["hello back", "sending"]],
    );
    const reply = await within(sending, "the reply");
    assert.equal(reply.seq, 6);
    assert.equal(reply.type, "support");
    const state = await waitFor(chat, (s) => s.messages.length === 6, "the reply");
    assert.deepEqual(state.pending, []);
    assert.deepEqual(seen.appended, range(1, 6));
    assert.deepEqual(seen.violations, []);
    client.close();
  });

  it("resumes after the server cut its side mid-burst: every seq exactly once", async () => {
    const first = await ingest(server, user.id, "m1", { externalId: "2002" });
    const tap = tappedWebSocket();
    const client = sdkClient(server, { WebSocket: tap.WebSocket });
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    const seen = watchSeqs(chat);
    await waitFor(chat, (s) => s.status === "open", "open");
    const states: string[] = [];
    client.onConnection((state) => states.push(state));
    // The server drops its side right after storing message 20, while frames are in flight.
    for (let i = 2; i <= 60; i++) {
      await ingest(
        server,
        user.id,
        `m${i}`,
        { externalId: "2002" },
        { channelId: first.channelId },
      );
      if (i === 20) assert.ok(cutServerSockets(server) >= 1);
    }
    await until(() => tap.closes.length === 1, "the drop");
    await waitFor(chat, (s) => s.messages.length === 60 && s.status === "open", "all 60");
    assert.deepEqual(seen.appended, range(1, 60));
    assert.deepEqual(seen.violations, []);
    assert.equal(tap.closes[0], 1006, JSON.stringify({ closes: tap.closes, urls: tap.urls }));
    const resumedAt = Number(new URL(tap.urls[1] ?? "").searchParams.get("after_seq"));
    assert.ok(resumedAt >= 1 && resumedAt <= 20, `resumed after ${resumedAt}`);
    assert.deepEqual(states.slice(0, 2), ["reconnecting", "open"]);
    assert.equal(client.connection, "open");
    client.close();
  });

  it("fills a seq gap in live frames with get_messages, without reconnecting", async () => {
    const first = await ingest(server, user.id, "m1", { externalId: "2003" });
    const tap = tappedWebSocket();
    // Frames for seq 3 and 4 are lost on the way.
    tap.dropIncoming = (frame) =>
      frame.type === "chat_message" && [3, 4].includes((frame.message as { seq: number }).seq);
    const client = sdkClient(server, { WebSocket: tap.WebSocket });
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    const seen = watchSeqs(chat);
    await waitFor(chat, (s) => s.status === "open", "open");
    for (let i = 2; i <= 6; i++) {
      await ingest(
        server,
        user.id,
        `m${i}`,
        { externalId: "2003" },
        { channelId: first.channelId },
      );
    }
    await waitFor(chat, (s) => s.messages.length === 6, "6 messages");
    assert.deepEqual(seen.appended, range(1, 6));
    assert.deepEqual(seen.violations, []);
    assert.deepEqual(
      chat.getSnapshot().messages.map((m) => m.content),
      ["m1", "m2", "m3", "m4", "m5", "m6"],
    );
    assert.deepEqual(
      tap.sent.filter((f) => f.type === "get_messages"),
      [{ type: "get_messages", before_seq: 5, limit: 2 }],
    );
    assert.equal(tap.urls.length, 1);
    client.close();
  });

  it("stores a reply sent during a drop exactly once, with one client_id", async () => {
    const first = await ingest(server, user.id, "m1", { externalId: "2004" });
    const tap = tappedWebSocket();
    // The first chat_message frame never reaches the server, then the connection drops.
    let lost = 0;
    tap.dropOutgoing = (frame) => frame.type === "chat_message" && lost++ === 0;
    const client = sdkClient(server, { WebSocket: tap.WebSocket });
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    await waitFor(chat, (s) => s.status === "open", "open");
    const sending = chat.send("are you there?");
    const clientId = chat.getSnapshot().pending[0]?.client_id;
    assert.ok(clientId);
    await until(() => tap.sent.some((f) => f.type === "chat_message"), "the first attempt");
    tap.cut();
    const stored = await within(sending, "the stored reply");
    assert.equal(stored.client_id, clientId);
    assert.equal(stored.seq, 2);
    const attempts = tap.sent.filter((f) => f.type === "chat_message");
    assert.deepEqual(
      attempts.map((f) => f.client_id),
      [clientId, clientId],
    );
    const page = await client.api.getMessages(first.conversation.id, { after_seq: 0 });
    assert.deepEqual(
      page.messages.map((m) => [m.seq, m.client_id]),
      [
        [1, null],
        [2, clientId],
      ],
    );
    const state = await waitFor(chat, (s) => s.messages.length === 2, "2 messages");
    assert.deepEqual(state.pending, []);
    client.close();
  });

  it("keeps a reply whose echo was lost in a drop: matched on resume, not stored again", async () => {
    const first = await ingest(server, user.id, "m1", { externalId: "2005" });
    const tap = tappedWebSocket();
    tap.dropIncoming = (frame) => frame.type === "chat_message";
    const client = sdkClient(server, { WebSocket: tap.WebSocket });
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    await waitFor(chat, (s) => s.status === "open", "open");
    const sending = chat.send("one reply");
    const clientId = chat.getSnapshot().pending[0]?.client_id;
    let storedCount = 0;
    await until(() => {
      void server.server.store.messages.after(first.conversation.id, 0, 10).then((p) => {
        storedCount = p.messages.length;
      });
      return storedCount === 2;
    }, "the reply stored");
    tap.dropIncoming = () => false;
    tap.cut();
    const stored = await within(sending, "the stored reply");
    assert.equal(stored.client_id, clientId);
    const state = await waitFor(
      chat,
      (s) => s.messages.length === 2 && s.status === "open",
      "resumed",
    );
    assert.deepEqual(
      state.messages.map((m) => [m.seq, m.client_id]),
      [
        [1, null],
        [2, clientId],
      ],
    );
    assert.equal(tap.sent.filter((f) => f.type === "chat_message").length, 1);
    client.close();
  });

  it("ends a chat on 4003 with a typed error and no retry", async () => {
    const tap = tappedWebSocket();
    const client = sdkClient(server, { WebSocket: tap.WebSocket });
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat("c_not_this_users");
    const state = await waitFor(chat, (s) => s.status === "closed", "closed");
    assert.deepEqual(state.error, { code: "forbidden" });
    assert.deepEqual(tap.closes, [4003]);
    assert.equal(tap.urls.length, 1);
    await assert.rejects(chat.send("hi"), (err: ApiError) => err.code === "forbidden");
    assert.equal(client.connection, "idle");
    client.close();
  });
});

describe("SDK chat session across restarts and token expiry", () => {
  it("resumes across a server restart mid-burst on the same database and port", async () => {
    let server = await startServer();
    const dataDir = server.dataDir;
    try {
      const user = await registerUser(server);
      const first = await ingest(server, user.id, "m1");
      const tap = tappedWebSocket();
      const client = sdkClient(server, { WebSocket: tap.WebSocket });
      await client.signIn(user.username, PASSWORD);
      const chat = client.chat(first.conversation.id);
      const seen = watchSeqs(chat);
      await waitFor(chat, (s) => s.status === "open", "open");
      await burst(server, user.id, first.channelId, 2, 20);
      server = await restartServer(server);
      await burst(server, user.id, first.channelId, 21, 40);
      await waitFor(chat, (s) => s.status === "open" && s.messages.length >= 21, "reconnected");
      await burst(server, user.id, first.channelId, 41, 60);
      await waitFor(chat, (s) => s.messages.length === 60, "all 60");
      assert.deepEqual(seen.appended, range(1, 60));
      assert.deepEqual(seen.violations, []);
      assert.ok(tap.closes.includes(1001), `closes ${tap.closes}`);
      assert.ok(tap.urls.at(-1)?.includes("after_seq="));
      client.close();
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("reconnects with a refreshed token when the access token expires while connected", async () => {
    const server = await startServer({ env: { ACCESS_TOKEN_TTL: "2" } });
    try {
      const user = await registerUser(server);
      const first = await ingest(server, user.id, "m1");
      const tap = tappedWebSocket();
      const client = sdkClient(server, { WebSocket: tap.WebSocket });
      const events: AuthEvent["type"][] = [];
      client.onAuth((e) => events.push(e.type));
      await client.signIn(user.username, PASSWORD);
      const chat = client.chat(first.conversation.id);
      const seen = watchSeqs(chat);
      await waitFor(chat, (s) => s.status === "open", "open");
      await until(() => tap.closes.includes(4001), "the 4001 close at expiry", 8_000);
      await burst(server, user.id, first.channelId, 2, 5);
      await waitFor(chat, (s) => s.status === "open" && s.messages.length === 5, "5 messages");
      assert.deepEqual(seen.appended, range(1, 5));
      const tokenOf = (url: string | undefined) => new URL(url ?? "").searchParams.get("token");
      const second = tap.urls[tap.closes.indexOf(4001) + 1];
      assert.notEqual(tokenOf(second), tokenOf(tap.urls[0]));
      assert.deepEqual(events, ["signed_in"]);
      assert.equal((await client.api.me()).id, user.id);
      client.close();
    } finally {
      await server.close();
    }
  });

  it("signs out with reason refresh_failed when the refresh token is refused", async () => {
    let server = await startServer();
    const dataDir = server.dataDir;
    try {
      const user = await registerUser(server);
      const first = await ingest(server, user.id, "m1");
      const storage = memoryTokenStorage();
      const client = sdkClient(server, { storage });
      const events: AuthEvent[] = [];
      client.onAuth((e) => events.push(e));
      await client.signIn(user.username, PASSWORD);
      const chat = client.chat(first.conversation.id);
      await waitFor(chat, (s) => s.status === "open", "open");
      // Tokens signed with the old key mean nothing to the restarted server.
      server = await restartServer(server, { JWT_SECRET: "another-secret-0123456789abcdef" });
      await waitFor(chat, (s) => s.status === "closed", "closed");
      assert.deepEqual(events, [
        {
          type: "signed_in",
          user: { id: user.id, username: user.username, first_name: "Ada", last_name: "Agent" },
        },
        { type: "signed_out", reason: "refresh_failed" },
      ]);
      assert.equal(client.user, null);
      assert.equal(storage.load(), null);
      await assert.rejects(chat.send("too late"), (err: ApiError) => err.code === "closed");
      await assert.rejects(client.api.me(), (err: ApiError) => err.code === "signed_out");
      client.close();
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
