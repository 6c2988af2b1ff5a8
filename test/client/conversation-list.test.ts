import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { NewCustomerMessage } from "../../client/index.js";
import { ingest, registerUser, startServer, type TestServer } from "../helpers/server.js";
import {
  closeClients,
  cutServerSockets,
  PASSWORD,
  sdkClient,
  tappedWebSocket,
  until,
  waitFor,
} from "./support.js";

afterEach(closeClients);

describe("SDK conversation list", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it("keeps the list sorted by activity, upserts pushes in place and follows the filter", async () => {
    const user = await registerUser(server);
    const c1 = await ingest(server, user.id, "one", { externalId: "3001", firstName: "Ann" });
    const c2 = await ingest(server, user.id, "two", { externalId: "3002", firstName: "Bob" });
    const c3 = await ingest(server, user.id, "three", { externalId: "3003", firstName: "Cid" });
    const client = sdkClient(server);
    await client.signIn(user.username, PASSWORD);
    const list = client.conversations();
    const news: NewCustomerMessage[] = [];
    list.onNewCustomerMessage((e) => news.push(e));
    const ids = () => list.getSnapshot().items.map((c) => c.id);
    const id1 = c1.conversation.id;
    const id2 = c2.conversation.id;
    const id3 = c3.conversation.id;
    await waitFor(list, (s) => s.status === "open", "open");
    assert.deepEqual(ids(), [id3, id2, id1]);
    assert.equal(list.getSnapshot().unreadTotal, 3);

    await ingest(server, user.id, "again", { externalId: "3001" }, { channelId: c1.channelId });
    await waitFor(list, (s) => s.items[0]?.id === id1, "c1 on top");
    assert.deepEqual(ids(), [id1, id3, id2]);
    assert.equal(list.getSnapshot().items.length, 3);
    assert.equal(list.getSnapshot().unreadTotal, 4);
    await until(() => news.length === 1, "new_customer_message");
    assert.deepEqual(
      news.map((e) => [e.conversation_id, e.message.content]),
      [[id1, "again"]],
    );

    list.setFilter({ status: "support_active", search: "bob" });
    await waitFor(list, (s) => !s.loading && s.items.length === 1, "filtered");
    assert.deepEqual(ids(), [id2]);
    await client.api.updateConversation(id2, { status: "closed" });
    await waitFor(list, (s) => s.items.length === 0, "c2 leaves the support_active list");

    list.setFilter({ status: "closed" });
    await waitFor(list, (s) => !s.loading && s.items.length === 1, "closed list");
    assert.deepEqual(ids(), [id2]);
    await client.api.updateConversation(id3, { status: "closed" });
    await waitFor(list, (s) => s.items.length === 2, "c3 joins the closed list");
    assert.deepEqual(ids(), [id3, id2]);
    assert.deepEqual(list.getSnapshot().filter, { status: "closed" });
  });

  it("pages by cursor and, after a drop, refreshes what it held without emptying", async () => {
    const user = await registerUser(server);
    const first = await ingest(server, user.id, "c0", { externalId: "4000" });
    for (let i = 1; i < 55; i++) {
      await ingest(
        server,
        user.id,
        `c${i}`,
        { externalId: String(4000 + i) },
        {
          channelId: first.channelId,
        },
      );
    }
    const tap = tappedWebSocket();
    const client = sdkClient(server, { WebSocket: tap.WebSocket });
    await client.signIn(user.username, PASSWORD);
    const list = client.conversations();
    await waitFor(list, (s) => s.status === "open", "open");
    assert.equal(list.getSnapshot().items.length, 50);
    assert.equal(list.getSnapshot().hasMore, true);
    await list.loadMore();
    let state = list.getSnapshot();
    assert.equal(state.items.length, 55);
    assert.equal(state.hasMore, false);
    const rest = await client.api.listConversations({ limit: 100 });
    assert.deepEqual(
      state.items.map((c) => c.id),
      rest.conversations.map((c) => c.id),
    );

    let smallest = Number.POSITIVE_INFINITY;
    list.subscribe(() => {
      smallest = Math.min(smallest, list.getSnapshot().items.length);
    });
    cutServerSockets(server);
    await until(() => tap.closes.length === 1, "the drop");
    // While the list is away, the oldest conversation gets a message: the refresh brings it.
    await ingest(server, user.id, "late", { externalId: "4000" }, { channelId: first.channelId });
    state = await waitFor(
      list,
      (s) => s.status === "open" && s.items[0]?.id === first.conversation.id,
      "refreshed",
    );
    assert.equal(smallest, 55);
    assert.equal(state.items.length, 55);
    const after = await client.api.listConversations({ limit: 100 });
    assert.deepEqual(
      state.items.map((c) => c.id),
      after.conversations.map((c) => c.id),
    );
    const refresh = tap.sent.filter((f) => f.type === "get_conversations").at(-1);
    assert.deepEqual(refresh, { type: "get_conversations", limit: 55 });
  });
});
