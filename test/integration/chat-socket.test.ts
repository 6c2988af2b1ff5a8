import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { readClaims } from "../../client/jwt.js";
import { NO_ATTACHMENT_FIELDS } from "../../src/domain/attachment-fields.js";
import { messageView } from "../../src/domain/views.js";
import {
  api,
  chatUrl,
  ingest,
  openChat,
  registerUser,
  startServer,
  TEST_JWT_SECRET,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { ISO_MS, MESSAGE_KEYS } from "../helpers/wire.js";
import { WsClient } from "../helpers/ws-client.js";

describe("chat socket", () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    server = await startServer();
    alice = await registerUser(server, "alice");
    bob = await registerUser(server, "bob");
  });
  after(() => server.close());

  const closeCodeOf = async (url: string) => await (await WsClient.connect(url)).closed;

  describe("connecting", () => {
    it("sends a snapshot that is, byte for byte, its messages each read alone", async () => {
      const tricky = 'quote " backslash \\ nl \n ls \u2028 😀';
      const first = await ingest(server, alice.id, tricky, { externalId: "5101" });
      const conversationId = first.conversation.id;
      const { message: withFiles } = await server.server.chat.ingestCustomerMessage({
        channelId: first.channelId,
        ownerId: alice.id,
        source: "telegram",
        customerExternalId: "5101",
        firstName: "John",
        lastName: "Doe",
        username: "johnd",
        externalMessageId: "5101-files",
        content: "[files]",
        attachments: [
          {
            ...NO_ATTACHMENT_FIELDS,
            kind: "location",
            ref: null,
            latitude: 48.858370123,
            longitude: 2.2944,
          },
          {
            ...NO_ATTACHMENT_FIELDS,
            kind: "contact",
            ref: null,
            phoneNumber: "+1 555",
            firstName: "Ann",
          },
          {
            ...NO_ATTACHMENT_FIELDS,
            kind: "document",
            ref: null,
            mimeType: "application/pdf",
            fileName: "terms.pdf",
            size: 2048,
          },
        ],
      });
      const actor = { id: alice.id, username: alice.username };
      await server.server.chat.sendMessage(actor, conversationId, {
        content: "on it",
        clientId: "k1",
      });
      const socket = new WebSocket(chatUrl(server, conversationId, alice.access));
      const texts: string[] = [];
      await new Promise<void>((resolve, reject) => {
        socket.on("message", (data) => {
          texts.push(String(data));
          if (texts.length === 2) resolve();
        });
        socket.once("error", reject);
      });
      socket.close();
      const page = await server.server.chat.readMessages(conversationId, { limit: 50 });
      const alone = await Promise.all(
        page.messages.map((m) => server.server.store.messages.findById(m.id)),
      );
      assert.deepEqual(
        alone.map((m) => [m?.seq, m?.attachments.length]),
        [
          [1, 0],
          [2, 3],
          [3, 0],
        ],
      );
      assert.equal(withFiles.attachments.length, 3);
      assert.equal(
        texts[1],
        JSON.stringify({
          type: "recent_messages",
          messages: alone.map((m) => (m === undefined ? null : messageView(m))),
          has_more: false,
        }),
      );
    });

    it("closes 4001 without a token, with a bad token, a refresh token or an unknown user", async () => {
      const { conversation } = await ingest(server, alice.id, "hi");
      const base = `${server.wsUrl}/ws/chat/${conversation.id}/`;
      const unknownUser = await new SignJWT({ token_type: "access", user_id: 9999 })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuedAt()
        .setExpirationTime("1h")
        .setJti("x")
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      const expired = await new SignJWT({ token_type: "access", user_id: alice.id })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .setJti("y")
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      for (const url of [
        base,
        `${base}?token=garbage`,
        `${base}?token=${alice.refresh}`,
        `${base}?token=${unknownUser}`,
        `${base}?token=${expired}`,
      ]) {
        assert.deepEqual(await closeCodeOf(url), { code: 4001, reason: "unauthorized" }, url);
      }
    });

    it("closes 4003 alike for another user's conversation and a missing one", async () => {
      const { conversation } = await ingest(server, alice.id, "private");
      assert.deepEqual(await closeCodeOf(chatUrl(server, conversation.id, bob.access)), {
        code: 4003,
        reason: "forbidden",
      });
      assert.deepEqual(await closeCodeOf(chatUrl(server, "c_doesnotexist", bob.access)), {
        code: 4003,
        reason: "forbidden",
      });
      assert.deepEqual(await closeCodeOf(chatUrl(server, "bad%20id!", bob.access)), {
        code: 4003,
        reason: "forbidden",
      });
    });

    it("sends connection_established then recent_messages, without a trailing slash too", async () => {
      const { conversation } = await ingest(server, alice.id, "Hello there", {
        externalId: "5001",
        firstName: "Jane",
        lastName: "Roe",
        username: "jroe",
      });
      const url = `${server.wsUrl}/ws/chat/${conversation.id}?token=${alice.access}`;
      const client = await WsClient.connect(url);
      assert.deepEqual(await client.next(), {
        type: "connection_established",
        conversation_id: conversation.id,
        user_id: alice.id,
      });
      const recent = await client.next();
      assert.equal(recent.type, "recent_messages");
      assert.equal(recent.has_more, false);
      assert.equal("resumed" in recent, false);
      const messages = recent.messages as Array<Record<string, unknown>>;
      assert.equal(messages.length, 1);
      const message = messages[0] ?? {};
      assert.deepEqual(Object.keys(message).sort(), MESSAGE_KEYS);
      assert.equal(message.content, "Hello there");
      assert.equal(message.type, "customer");
      assert.equal(message.seq, 1);
      assert.equal(message.sender, null);
      assert.equal(message.is_ai_response, false);
      assert.equal(message.is_answered, false);
      assert.equal(message.delivery_status, "received");
      assert.equal(message.client_id, null);
      assert.equal(message.conversation_id, conversation.id);
      assert.match(String(message.created_at), ISO_MS);
      assert.deepEqual(message.customer, {
        id: conversation.customer.id,
        first_name: "Jane",
        last_name: "Roe",
        username: "jroe",
        source: "telegram",
        profile_picture: null,
      });
      await client.close();
    });

    it("sends the last 50 messages oldest first, with has_more", async () => {
      const first = await ingest(server, alice.id, "m1", { externalId: "6001" });
      for (let i = 2; i <= 60; i++) {
        await ingest(
          server,
          alice.id,
          `m${i}`,
          { externalId: "6001" },
          { channelId: first.channelId },
        );
      }
      const { client, recent } = await openChat(server, first.conversation.id, alice.access);
      const messages = recent.messages as Array<{ seq: number; content: string }>;
      assert.equal(recent.has_more, true);
      assert.deepEqual(
        messages.map((m) => m.seq),
        Array.from({ length: 50 }, (_, i) => i + 11),
      );
      assert.equal(messages[0]?.content, "m11");
      await client.close();
    });

    it("closes 4001 when the access token expires while connected", async () => {
      // Long enough for the connect to finish on a busy machine before the token runs out.
      const shortLived = await startServer({ env: { ACCESS_TOKEN_TTL: "4" } });
      try {
        const user = await registerUser(shortLived, "carol");
        const { conversation } = await ingest(shortLived, user.id, "hi");
        const { client } = await openChat(shortLived, conversation.id, user.access);
        const expiresAt = (readClaims(user.access)?.exp ?? 0) * 1000;
        assert.deepEqual(await client.closed, { code: 4001, reason: "unauthorized" });
        const closedAt = Date.now();
        // At expiry: not before it (the token was still good), not long after it.
        assert.ok(closedAt >= expiresAt - 50, `closed ${expiresAt - closedAt} ms before expiry`);
        assert.ok(closedAt - expiresAt < 5_000, `closed ${closedAt - expiresAt} ms after expiry`);
      } finally {
        await shortLived.close();
      }
    });
  });

  describe("frames", () => {
    it("chat_message reaches every socket (sender too), marks answered, updates the list", async () => {
      const { conversation } = await ingest(server, alice.id, "I need help", {
        externalId: "7001",
      });
      const a = await openChat(server, conversation.id, alice.access);
      const b = await openChat(server, conversation.id, alice.access);
      const list = await WsClient.connect(
        `${server.wsUrl}/ws/conversations/?token=${alice.access}`,
      );
      await list.next("conversations_list");

      a.client.send({ type: "chat_message", content: "  How can I help?  ", client_id: "c-1" });
      for (const socket of [a.client, b.client]) {
        const frame = await socket.next();
        assert.equal(frame.type, "chat_message");
        const message = frame.message as Record<string, unknown>;
        assert.deepEqual(Object.keys(message).sort(), MESSAGE_KEYS);
        assert.equal(message.content, "How can I help?");
        assert.equal(message.type, "support");
        assert.equal(message.seq, 2);
        assert.deepEqual(message.sender, { id: alice.id, username: "alice" });
        assert.equal(message.client_id, "c-1");
        assert.equal(message.is_answered, true);
        assert.equal(message.delivery_status, "pending");
        const updated = await socket.next();
        assert.equal(updated.type, "message_updated");
        const answered = updated.message as Record<string, unknown>;
        assert.equal(answered.seq, 1);
        assert.equal(answered.is_answered, true);
      }
      const pushed = await list.next();
      assert.equal(pushed.type, "conversation_updated");
      const listed = pushed.conversation as Record<string, unknown>;
      assert.equal(listed.id, conversation.id);
      assert.deepEqual((listed.last_message as Record<string, unknown>).content, "How can I help?");
      assert.deepEqual(await list.drain(), []);
      await Promise.all([a.client.close(), b.client.close(), list.close()]);
    });

    it("a repeated client_id stores nothing and answers only the sender", async () => {
      const { conversation } = await ingest(server, alice.id, "hi", { externalId: "7002" });
      const a = await openChat(server, conversation.id, alice.access);
      const b = await openChat(server, conversation.id, alice.access);
      a.client.send({ type: "chat_message", content: "once", client_id: "retry-1" });
      const original = await a.client.next("chat_message");
      await b.client.next("chat_message");
      // Both also get the message_updated of the answered customer message.
      assert.equal((await a.client.next()).type, "message_updated");
      await b.client.drain();
      a.client.send({ type: "chat_message", content: "once", client_id: "retry-1" });
      const again = await a.client.next();
      assert.equal(again.type, "chat_message");
      assert.deepEqual(again.message, original.message);
      assert.deepEqual(await b.client.drain(), []);
      a.client.send({ type: "chat_message", content: "next" });
      const next = await a.client.next("chat_message");
      assert.equal((next.message as { seq: number }).seq, 3);
      await Promise.all([a.client.close(), b.client.close()]);
    });

    it("typing goes to the other sockets only", async () => {
      const { conversation } = await ingest(server, alice.id, "hi", { externalId: "7003" });
      const a = await openChat(server, conversation.id, alice.access);
      const b = await openChat(server, conversation.id, alice.access);
      a.client.send({ type: "typing", is_typing: true });
      assert.deepEqual(await b.client.next(), {
        type: "typing_indicator",
        conversation_id: conversation.id,
        user_id: alice.id,
        username: "alice",
        is_typing: true,
      });
      assert.deepEqual(await a.client.drain(), []);
      await Promise.all([a.client.close(), b.client.close()]);
    });

    it("mark_read reaches every socket and resets the unread count", async () => {
      const { conversation, channelId } = await ingest(server, alice.id, "one", {
        externalId: "7004",
      });
      await ingest(server, alice.id, "two", { externalId: "7004" }, { channelId });
      const a = await openChat(server, conversation.id, alice.access);
      const b = await openChat(server, conversation.id, alice.access);
      const list = await WsClient.connect(
        `${server.wsUrl}/ws/conversations/?token=${alice.access}`,
      );
      await list.next("conversations_list");
      a.client.send({ type: "mark_read" });
      for (const socket of [a.client, b.client]) {
        const frame = await socket.next();
        assert.deepEqual(Object.keys(frame).sort(), [
          "conversation_id",
          "read_at",
          "type",
          "user_id",
        ]);
        assert.equal(frame.type, "messages_read");
        assert.equal(frame.conversation_id, conversation.id);
        assert.equal(frame.user_id, alice.id);
        assert.match(String(frame.read_at), ISO_MS);
      }
      const pushed = await list.next("conversation_updated");
      assert.equal((pushed.conversation as { unread_count: number }).unread_count, 0);
      await Promise.all([a.client.close(), b.client.close(), list.close()]);
    });

    it("get_messages pages backwards and answers only the asking socket", async () => {
      const first = await ingest(server, alice.id, "p1", { externalId: "7005" });
      for (let i = 2; i <= 8; i++) {
        await ingest(
          server,
          alice.id,
          `p${i}`,
          { externalId: "7005" },
          { channelId: first.channelId },
        );
      }
      const a = await openChat(server, first.conversation.id, alice.access);
      const b = await openChat(server, first.conversation.id, alice.access);
      a.client.send({ type: "get_messages", before_seq: 6, limit: 3 });
      const page = await a.client.next();
      assert.equal(page.type, "messages");
      assert.deepEqual(
        (page.messages as Array<{ seq: number }>).map((m) => m.seq),
        [3, 4, 5],
      );
      assert.equal(page.has_more, true);
      a.client.send({ type: "get_messages", before_seq: 3 });
      const last = await a.client.next();
      assert.deepEqual(
        (last.messages as Array<{ seq: number }>).map((m) => m.seq),
        [1, 2],
      );
      assert.equal(last.has_more, false);
      assert.deepEqual(await b.client.drain(), []);
      await Promise.all([a.client.close(), b.client.close()]);
    });

    it("customer messages reach chat sockets; edits arrive as message_updated", async () => {
      const first = await ingest(
        server,
        alice.id,
        "hello",
        { externalId: "7006" },
        { externalMessageId: "m-1" },
      );
      const { client } = await openChat(server, first.conversation.id, alice.access);
      await ingest(
        server,
        alice.id,
        "second",
        { externalId: "7006" },
        { channelId: first.channelId },
      );
      const frame = await client.next();
      assert.equal(frame.type, "chat_message");
      assert.equal((frame.message as { content: string }).content, "second");
      await server.server.chat.editCustomerMessage({
        channelId: first.channelId,
        customerExternalId: "7006",
        externalMessageId: "m-1",
        content: "hello (edited)",
      });
      const updated = await client.next();
      assert.equal(updated.type, "message_updated");
      assert.equal((updated.message as { seq: number }).seq, 1);
      assert.equal((updated.message as { content: string }).content, "hello (edited)");
      await client.close();
    });
  });

  describe("reconnecting", () => {
    // A conversation stays subscribed after its last socket left, and its snapshot is kept in
    // memory: every reconnect below comes within a second, while the previous frame is kept.
    type Shown = { seq: number; content: string; is_answered: boolean; first_name: string };
    const shown = (recent: Record<string, unknown>): Shown[] =>
      (
        recent.messages as Array<{
          seq: number;
          content: string;
          is_answered: boolean;
          customer: { first_name: string };
        }>
      ).map((m) => ({
        seq: m.seq,
        content: m.content,
        is_answered: m.is_answered,
        first_name: m.customer.first_name,
      }));
    const reconnect = async (conversationId: string) => {
      const { client, recent } = await openChat(server, conversationId, alice.access);
      await client.close();
      return shown(recent);
    };

    it("a reconnect's snapshot shows every change since the previous one", async () => {
      const customer = { externalId: "7010", firstName: "Ann" };
      const first = await ingest(server, alice.id, "k1", customer, { externalMessageId: "k-1" });
      const id = first.conversation.id;
      const k1 = { seq: 1, content: "k1", is_answered: false, first_name: "Ann" };
      assert.deepEqual(await reconnect(id), [k1]);
      assert.deepEqual(await reconnect(id), [k1]);

      // A message stored while no socket is open.
      await ingest(server, alice.id, "k2", customer, { channelId: first.channelId });
      const k2 = { seq: 2, content: "k2", is_answered: false, first_name: "Ann" };
      assert.deepEqual(await reconnect(id), [k1, k2]);

      // An edit (message_updated).
      await server.server.chat.editCustomerMessage({
        channelId: first.channelId,
        customerExternalId: "7010",
        externalMessageId: "k-1",
        content: "k1 (edited)",
      });
      const edited = { ...k1, content: "k1 (edited)" };
      assert.deepEqual(await reconnect(id), [edited, k2]);

      // The customer's profile, which changes without any event of the conversation.
      await server.server.store.customers.updateProfile(first.conversation.customer.id, {
        firstName: "Anna",
      });
      assert.deepEqual(await reconnect(id), [
        { ...edited, first_name: "Anna" },
        { ...k2, first_name: "Anna" },
      ]);

      // An agent's answer marks the customer's messages answered.
      const { client } = await openChat(server, id, alice.access);
      client.send({ type: "chat_message", content: "on it" });
      await client.next("chat_message");
      await client.close();
      const after = await reconnect(id);
      assert.deepEqual(after.slice(0, 2), [
        { ...edited, first_name: "Anna", is_answered: true },
        { ...k2, first_name: "Anna", is_answered: true },
      ]);
      assert.deepEqual(
        after.slice(2).map((m) => [m.seq, m.content]),
        [[3, "on it"]],
      );
    });
  });

  describe("resume", () => {
    it("after_seq carries exactly the missed messages, then live ones", async () => {
      const first = await ingest(server, alice.id, "r1", { externalId: "8001" });
      const opened = await openChat(server, first.conversation.id, alice.access);
      await opened.client.close();
      for (const text of ["r2", "r3", "r4"]) {
        await ingest(
          server,
          alice.id,
          text,
          { externalId: "8001" },
          { channelId: first.channelId },
        );
      }
      const { client, recent } = await openChat(
        server,
        first.conversation.id,
        alice.access,
        "&after_seq=1",
      );
      assert.equal(recent.type, "recent_messages");
      assert.equal(recent.resumed, true);
      assert.equal(recent.has_more, false);
      assert.deepEqual(
        (recent.messages as Array<{ seq: number; content: string }>).map((m) => [m.seq, m.content]),
        [
          [2, "r2"],
          [3, "r3"],
          [4, "r4"],
        ],
      );
      await ingest(server, alice.id, "r5", { externalId: "8001" }, { channelId: first.channelId });
      assert.equal(((await client.next("chat_message")).message as { seq: number }).seq, 5);
      await client.close();
    });

    it("resuming after more than 500 missed sends 500 and has_more", async () => {
      const first = await ingest(server, alice.id, "x", { externalId: "8002" });
      for (let i = 0; i < 520; i++) {
        await ingest(
          server,
          alice.id,
          `x${i}`,
          { externalId: "8002" },
          { channelId: first.channelId },
        );
      }
      const { client, recent } = await openChat(
        server,
        first.conversation.id,
        alice.access,
        "&after_seq=3",
      );
      const seqs = (recent.messages as Array<{ seq: number }>).map((m) => m.seq);
      assert.equal(seqs.length, 500);
      assert.equal(seqs[0], 4);
      assert.equal(seqs.at(-1), 503);
      assert.equal(recent.has_more, true);
      await client.close();
    });
  });

  describe("status rules", () => {
    it("a support message moves closed to support_active; a customer message reopens", async () => {
      const first = await ingest(server, alice.id, "s1", { externalId: "9001" });
      const id = first.conversation.id;
      assert.equal(first.conversation.status, "support_active");
      const patch = (status: string) =>
        api(server, "PATCH", `/api/conversations/${id}/`, {
          token: alice.access,
          body: { status },
        });
      assert.equal((await patch("closed")).status, 200);
      const reopened = await ingest(
        server,
        alice.id,
        "back",
        { externalId: "9001" },
        { channelId: first.channelId },
      );
      assert.equal(reopened.conversation.status, "support_active");
      for (const status of ["closed", "active"]) {
        await patch(status);
        const sent = await api(server, "POST", `/api/conversations/${id}/messages/`, {
          token: alice.access,
          body: { content: "on it" },
        });
        assert.equal(sent.status, 201);
        const now = await api(server, "GET", `/api/conversations/${id}/`, { token: alice.access });
        assert.equal(now.body.status, "support_active", `from ${status}`);
      }
    });
  });
});
