import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  api,
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

// protocol.md sections 3 (ownership), 4 (4003 for another user's conversation) and 8 (404):
// a user never sees, touches or hears of another user's conversations.

interface Page {
  conversations: { id: string }[];
  has_more: boolean;
  next_cursor: string | null;
}

const NOT_FOUND = { error: "Conversation not found", code: "not_found" };

describe("isolation between users", () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let aliceConversation: string;
  let bobConversation: string;

  before(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([
      registerUser(server, "iso_alice"),
      registerUser(server, "iso_bob"),
    ]);
    // The same platform user writes to both businesses: two customers, two conversations.
    aliceConversation = (await ingest(server, alice.id, "for alice", { externalId: "777" }))
      .conversation.id;
    bobConversation = (await ingest(server, bob.id, "for bob", { externalId: "777" })).conversation
      .id;
  });
  after(() => server.close());

  const snapshot = async () => ({
    conversation: (
      await api(server, "GET", `/api/conversations/${aliceConversation}/`, {
        token: alice.access,
      })
    ).body,
    messages: (
      await api(server, "GET", `/api/conversations/${aliceConversation}/messages/`, {
        token: alice.access,
      })
    ).body,
  });

  it("keeps one customer per owner even for the same platform user", async () => {
    const a = await server.server.chat.requireConversation(alice.id, aliceConversation);
    const b = await server.server.chat.requireConversation(bob.id, bobConversation);
    assert.notEqual(a.customer.id, b.customer.id);
    assert.equal(a.customer.ownerId, alice.id);
    assert.equal(b.customer.ownerId, bob.id);
  });

  it("answers 404 to every REST call on another user's conversation, as for a missing one", async () => {
    const before = await snapshot();
    const calls: [string, string, unknown][] = [
      ["GET", "", undefined],
      ["PATCH", "", { status: "closed", priority: 9 }],
      ["GET", "messages/", undefined],
      ["GET", "messages/?after_seq=0", undefined],
      ["POST", "messages/", { content: "intruder", client_id: "x-1" }],
      ["POST", "read/", undefined],
    ];
    for (const [method, suffix, body] of calls) {
      for (const id of [aliceConversation, "c_doesnotexist"]) {
        const res = await api(server, method, `/api/conversations/${id}/${suffix}`, {
          token: bob.access,
          body,
        });
        assert.equal(res.status, 404, `${method} ${id}/${suffix}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body, NOT_FOUND, `${method} ${id}/${suffix}`);
      }
    }
    // Nothing changed: no message, no status or priority change, still unread.
    assert.deepEqual(await snapshot(), before);
    const after = await snapshot();
    assert.equal((after.conversation as { unread_count: number }).unread_count, 1);
  });

  it("lists only the user's own conversations, whatever the filters", async () => {
    for (const query of ["", "?search=john", "?source=telegram", "?status=support_active"]) {
      const bobs = await api<Page>(server, "GET", `/api/conversations/${query}`, {
        token: bob.access,
      });
      assert.deepEqual(
        bobs.body.conversations.map((c) => c.id),
        [bobConversation],
        `bob ${query}`,
      );
      const alices = await api<Page>(server, "GET", `/api/conversations/${query}`, {
        token: alice.access,
      });
      assert.deepEqual(
        alices.body.conversations.map((c) => c.id),
        [aliceConversation],
        `alice ${query}`,
      );
    }
  });

  it("does not let a cursor from another user's list reach that user's rows", async () => {
    await ingest(server, alice.id, "second", { externalId: "778" });
    const first = await api<Page>(server, "GET", "/api/conversations/?limit=1", {
      token: alice.access,
    });
    assert.ok(first.body.next_cursor);
    const cursor = encodeURIComponent(first.body.next_cursor ?? "");
    const bobs = await api<Page>(server, "GET", `/api/conversations/?limit=1&cursor=${cursor}`, {
      token: bob.access,
    });
    assert.equal(bobs.status, 200);
    for (const c of bobs.body.conversations) assert.equal(c.id, bobConversation);
  });

  it("closes another user's chat socket with 4003, as for a missing conversation", async () => {
    const intruder = await WsClient.connect(chatUrl(server, aliceConversation, bob.access));
    const missing = await WsClient.connect(chatUrl(server, "c_doesnotexist", bob.access));
    const [a, b] = await Promise.all([intruder.closed, missing.closed]);
    assert.deepEqual(a, { code: 4003, reason: "forbidden" });
    assert.deepEqual(b, { code: 4003, reason: "forbidden" });
    // Refused before any frame: not even connection_established.
    assert.deepEqual(intruder.frames, []);
    assert.deepEqual(missing.frames, []);
  });

  it("does not deliver another user's conversation frames to a chat socket", async () => {
    const own = await openChat(server, bobConversation, bob.access);
    try {
      assert.equal(own.established.type, "connection_established");
      await ingest(server, alice.id, "alice only", { externalId: "777" });
      await api(server, "POST", `/api/conversations/${aliceConversation}/messages/`, {
        token: alice.access,
        body: { content: "reply for alice's customer" },
      });
      assert.deepEqual(await own.client.drain(200), []);
    } finally {
      await own.client.close();
    }
  });

  it("never pushes another user's events to a list socket", async () => {
    const [aliceList, bobList] = await Promise.all([
      WsClient.connect(listUrl(server, alice.access)),
      WsClient.connect(listUrl(server, bob.access)),
    ]);
    try {
      for (const socket of [aliceList, bobList]) {
        await socket.next("connection_established");
        await socket.next("conversations_list");
      }
      const bobFirstList = bobList.frames.find((f) => f.type === "conversations_list");
      assert.deepEqual(
        ((bobFirstList?.conversations ?? []) as { id: string }[]).map((c) => c.id),
        [bobConversation],
      );

      // A new customer message, an agent reply, a status change and a read, all alice's.
      const { conversation } = await ingest(server, alice.id, "ping", { externalId: "777" });
      const customerPush = await aliceList.next("new_customer_message");
      assert.equal(customerPush.conversation_id, conversation.id);
      const updated = await aliceList.next("conversation_updated");
      assert.equal((updated.conversation as { id: string }).id, conversation.id);
      await api(server, "POST", `/api/conversations/${conversation.id}/messages/`, {
        token: alice.access,
        body: { content: "pong" },
      });
      await api(server, "PATCH", `/api/conversations/${conversation.id}/`, {
        token: alice.access,
        body: { priority: 4 },
      });
      await api(server, "POST", `/api/conversations/${conversation.id}/read/`, {
        token: alice.access,
      });
      assert.equal((await aliceList.collect("conversation_updated", 3)).length, 3);

      assert.deepEqual(await bobList.drain(200), []);
    } finally {
      await Promise.all([aliceList.close(), bobList.close()]);
    }
  });
});
