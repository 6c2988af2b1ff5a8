import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  api,
  ingest,
  listUrl,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { CONVERSATION_KEYS } from "../helpers/wire.js";
import { type Frame, WsClient } from "../helpers/ws-client.js";

type Listed = { id: string; title: string; status: string; unread_count: number };
const idsOf = (frame: Frame) => (frame.conversations as Listed[]).map((c) => c.id);

describe("conversation list socket", () => {
  let server: TestServer;
  let user: TestUser;
  const ids: string[] = [];

  before(async () => {
    server = await startServer();
    user = await registerUser(server, "lena");
    const people: Array<[string, string, "telegram" | "instagram"]> = [
      ["John", "Doe", "telegram"],
      ["Maria", "Garcia", "instagram"],
      ["Åsa", "Berg", "telegram"],
      ["Li", "Wei", "instagram"],
      ["Omar", "Haddad", "telegram"],
    ];
    for (const [i, [firstName, lastName, source]] of people.entries()) {
      const { conversation } = await ingest(server, user.id, `hello ${i}`, {
        externalId: `u${i}`,
        firstName,
        lastName,
        source,
      });
      ids.push(conversation.id);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  });
  after(() => server.close());

  const connect = async () => {
    const client = await WsClient.connect(listUrl(server, user.access));
    const established = await client.next();
    const first = await client.next();
    return { client, established, first };
  };

  it("sends connection_established, then the first page newest first", async () => {
    const { client, established, first } = await connect();
    assert.deepEqual(established, { type: "connection_established", user_id: user.id });
    assert.deepEqual(Object.keys(first).sort(), [
      "conversations",
      "has_more",
      "next_cursor",
      "type",
    ]);
    assert.equal(first.type, "conversations_list");
    assert.deepEqual(idsOf(first), [...ids].reverse());
    assert.equal(first.has_more, false);
    assert.equal(first.next_cursor, null);
    const newest = (first.conversations as Array<Record<string, unknown>>)[0] ?? {};
    assert.deepEqual(Object.keys(newest).sort(), CONVERSATION_KEYS);
    assert.equal(newest.title, "telegram - Omar Haddad");
    assert.equal(newest.unread_count, 1);
    assert.deepEqual(newest.last_message && Object.keys(newest.last_message).sort(), [
      "content",
      "created_at",
      "id",
      "type",
    ]);
    await client.close();
  });

  it("filters by status, source and case-insensitive search; pages with a cursor", async () => {
    const { client } = await connect();
    client.send({ type: "get_conversations", source: "instagram" });
    assert.deepEqual(idsOf(await client.next()), [ids[3], ids[1]]);
    client.send({ type: "get_conversations", search: "GARC" });
    assert.deepEqual(idsOf(await client.next()), [ids[1]]);
    client.send({ type: "get_conversations", search: "telegram - j" });
    assert.deepEqual(idsOf(await client.next()), [ids[0]]);
    client.send({ type: "get_conversations", status: "closed" });
    assert.deepEqual(idsOf(await client.next()), []);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      client.send({ type: "get_conversations", limit: 2, cursor });
      const page = await client.next();
      seen.push(...idsOf(page));
      cursor = page.next_cursor as string | null;
      assert.equal(page.has_more, cursor !== null);
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
    await client.close();
  });

  it("refresh_conversations repeats the last filters", async () => {
    const { client } = await connect();
    client.send({ type: "get_conversations", source: "instagram", limit: 1 });
    const filtered = await client.next();
    assert.deepEqual(idsOf(filtered), [ids[3]]);
    client.send({ type: "refresh_conversations" });
    const again = await client.next();
    assert.equal(again.type, "conversations_list");
    assert.deepEqual(idsOf(again), [ids[3]]);
    assert.equal(again.has_more, true);
    await client.close();
  });

  it("pushes new_customer_message and conversation_updated for exactly the changed one", async () => {
    const { client } = await connect();
    const { message, conversation } = await ingest(
      server,
      user.id,
      "are you there?",
      {
        externalId: "u2",
        source: "telegram",
        firstName: "Åsa",
        lastName: "Berg",
      },
      {
        channelId:
          (await server.server.store.conversations.findById(ids[2] ?? ""))?.channelId ?? "",
      },
    );
    assert.equal(conversation.id, ids[2]);
    const pushed = await client.next();
    assert.equal(pushed.type, "new_customer_message");
    assert.equal(pushed.conversation_id, ids[2]);
    assert.equal((pushed.message as { id: string }).id, message.id);
    assert.equal((pushed.message as { content: string }).content, "are you there?");
    const updated = await client.next();
    assert.equal(updated.type, "conversation_updated");
    const changed = updated.conversation as Listed & { last_message: { content: string } };
    assert.equal(changed.id, ids[2]);
    assert.equal(changed.unread_count, 2);
    assert.equal(changed.last_message.content, "are you there?");
    assert.deepEqual(await client.drain(), []);

    const patched = await api(server, "PATCH", `/api/conversations/${ids[0]}/`, {
      token: user.access,
      body: { priority: 3 },
    });
    assert.equal(patched.status, 200);
    const priority = await client.next();
    assert.equal(priority.type, "conversation_updated");
    assert.equal((priority.conversation as { id: string; priority: number }).id, ids[0]);
    assert.equal((priority.conversation as { priority: number }).priority, 3);
    assert.deepEqual(await client.drain(), []);
    await client.close();
  });

  it("announces a new conversation with conversation_updated", async () => {
    const { client } = await connect();
    const { conversation } = await ingest(server, user.id, "first time here", {
      externalId: "new-1",
    });
    assert.equal((await client.next()).type, "new_customer_message");
    const announced = await client.next();
    assert.equal(announced.type, "conversation_updated");
    assert.equal((announced.conversation as Listed).id, conversation.id);
    assert.equal((announced.conversation as Listed).status, "support_active");
    await client.close();
  });
});
