import assert from "node:assert/strict";
import { it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Conversation, ConversationFilter } from "../../src/domain/types.js";
import { NotFoundError, ValidationError } from "../../src/errors.js";
import type { Store } from "../../src/store/store.js";
import { describeStores, inbound, newChannel, newOwner, unique } from "../helpers/stores.js";

// Conversation reads and changes: list order, filters, search, cursor paging, read state.

/** Every page of a listing, following cursors. */
async function listAll(
  store: Store,
  ownerId: number,
  filter: ConversationFilter,
  limit: number,
): Promise<{ pages: Conversation[][]; more: boolean[] }> {
  const pages: Conversation[][] = [];
  const more: boolean[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.conversations.list(ownerId, filter, limit, cursor);
    pages.push(page.conversations);
    more.push(page.hasMore);
    assert.equal(page.nextCursor === null, !page.hasMore);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 20);
  return { pages, more };
}

describeStores("conversations", ({ store, sql }) => {
  it("updates status and priority and moves updatedAt", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const { conversation } = await store().messages.ingest(inbound(channel));
    await sleep(5);
    const closed = await store().conversations.update(conversation.id, { status: "closed" });
    assert.equal(closed?.status, "closed");
    assert.equal(closed?.priority, 1);
    assert.ok((closed?.updatedAt ?? 0) > conversation.updatedAt);
    const urgent = await store().conversations.update(conversation.id, { priority: 5 });
    assert.equal(urgent?.status, "closed");
    assert.equal(urgent?.priority, 5);
    assert.deepEqual(await store().conversations.findById(conversation.id), urgent);
    assert.equal(await store().conversations.update("c_none", { priority: 2 }), undefined);
    assert.equal(await store().conversations.findById("c_none"), undefined);
  });

  it("resets the unread count on markRead and records the read marker", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    await store().messages.ingest(inbound(channel));
    const { conversation } = await store().messages.ingest(inbound(channel));
    assert.equal(conversation.unreadCount, 2);

    const read = await store().conversations.markRead(conversation.id, owner.id, 1_234_567);
    assert.equal(read.readAt, 1_234_567);
    assert.equal(read.conversation.unreadCount, 0);
    assert.equal(read.conversation.updatedAt, conversation.updatedAt);
    assert.deepEqual(
      await sql("select last_read_seq, read_at from read_markers where conversation_id = ?", [
        conversation.id,
      ]),
      [{ last_read_seq: 2, read_at: 1_234_567 }],
    );

    const third = await store().messages.ingest(inbound(channel));
    assert.equal(third.conversation.unreadCount, 1);
    await store().conversations.markRead(conversation.id, owner.id, 2_000_000);
    assert.deepEqual(
      await sql("select last_read_seq, read_at from read_markers where conversation_id = ?", [
        conversation.id,
      ]),
      [{ last_read_seq: 3, read_at: 2_000_000 }],
    );
    assert.equal((await store().conversations.findById(conversation.id))?.unreadCount, 0);
    await assert.rejects(
      store().conversations.markRead("c_none", owner.id, 1),
      (error: unknown) => error instanceof NotFoundError,
    );
  });

  it("lists only the owner's conversations, newest first, with filters", async () => {
    const owner = await newOwner(store());
    const stranger = await newOwner(store());
    const telegram = await newChannel(store(), owner.id, "telegram");
    const instagram = await newChannel(store(), owner.id, "instagram");
    await store().messages.ingest(inbound(await newChannel(store(), stranger.id)));

    const a = await store().messages.ingest(inbound(telegram, { customerExternalId: "a" }));
    await sleep(3);
    const b = await store().messages.ingest(inbound(instagram, { customerExternalId: "b" }));
    await sleep(3);
    const c = await store().messages.ingest(inbound(telegram, { customerExternalId: "c" }));
    await sleep(3);
    await store().conversations.update(b.conversation.id, { status: "closed" });

    const all = await store().conversations.list(owner.id, {}, 50, null);
    assert.deepEqual(
      all.conversations.map((x) => x.id),
      [b.conversation.id, c.conversation.id, a.conversation.id],
    );
    assert.equal(all.hasMore, false);
    assert.equal(all.nextCursor, null);
    assert.deepEqual(all.conversations[1], c.conversation);

    const ids = async (filter: ConversationFilter) =>
      (await store().conversations.list(owner.id, filter, 50, null)).conversations.map((x) => x.id);
    assert.deepEqual(await ids({ status: "closed" }), [b.conversation.id]);
    assert.deepEqual(await ids({ status: "support_active" }), [
      c.conversation.id,
      a.conversation.id,
    ]);
    assert.deepEqual(await ids({ source: "telegram" }), [c.conversation.id, a.conversation.id]);
    assert.deepEqual(await ids({ source: "instagram", status: "support_active" }), []);
    assert.deepEqual(await ids({ status: "active" }), []);

    // A new message brings a conversation to the top.
    await store().messages.ingest(inbound(telegram, { customerExternalId: "a" }));
    assert.deepEqual((await ids({}))[0], a.conversation.id);
  });

  it("searches title, names and username case-insensitively, wildcards taken literally", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const make = async (id: string, firstName: string, lastName: string, username: string | null) =>
      (
        await store().messages.ingest(
          inbound(channel, { customerExternalId: id, firstName, lastName, username }),
        )
      ).conversation.id;
    const john = await make("1", "John", "Smith", "jsmith");
    const maria = await make("2", "Maria", "O'Neil", "mary_50%");
    const ivan = await make("3", "Иван", "Петров", null);
    const plain = await make("4", "Bob", "Jones", "bobby");

    const found = async (search: string) =>
      (await store().conversations.list(owner.id, { search }, 50, null)).conversations
        .map((x) => x.id)
        .sort();
    assert.deepEqual(await found("JOHN"), [john]);
    assert.deepEqual(await found("smi"), [john]);
    assert.deepEqual(await found("JSMITH"), [john]);
    assert.deepEqual(await found("o'neil"), [maria]);
    assert.deepEqual(await found("иван"), [ivan]);
    assert.deepEqual(await found("ПЕТР"), [ivan]);
    assert.deepEqual(await found("TELEGRAM - bob"), [plain]);
    assert.deepEqual(await found("_50%"), [maria]);
    assert.deepEqual(await found("%"), [maria]);
    assert.deepEqual(await found("y_"), [maria]);
    assert.deepEqual(await found("b_b"), []);
    assert.deepEqual(await found("nobody"), []);
    assert.deepEqual(await found("  "), [john, maria, ivan, plain].sort());
    assert.deepEqual(await found("telegram"), [john, maria, ivan, plain].sort());
  });

  it("pages through 7 conversations 3 at a time, each exactly once, in order", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { conversation } = await store().messages.ingest(
        inbound(channel, { customerExternalId: unique("pager") }),
      );
      ids.push(conversation.id);
    }
    // Touch them in a shuffled order with distinct times: the list is that order reversed.
    const touchOrder = [3, 0, 6, 2, 5, 1, 4].map((i) => ids[i] ?? "");
    for (const id of touchOrder) {
      await sleep(2);
      await store().conversations.update(id, { priority: 2 });
    }
    const expected = [...touchOrder].reverse();

    const { pages, more } = await listAll(store(), owner.id, {}, 3);
    assert.deepEqual(
      pages.map((p) => p.map((c) => c.id)),
      [expected.slice(0, 3), expected.slice(3, 6), expected.slice(6)],
    );
    assert.deepEqual(more, [true, true, false]);

    const exact = await listAll(store(), owner.id, {}, 7);
    assert.deepEqual(exact.more, [false]);
    assert.equal(exact.pages[0]?.length, 7);
  });

  it("breaks updatedAt ties by id, descending, across pages", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { conversation } = await store().messages.ingest(
        inbound(channel, { customerExternalId: unique("tie") }),
      );
      ids.push(conversation.id);
    }
    await sql("update conversations set updated_at = ? where owner_id = ?", [5_000, owner.id]);
    // Ids are ASCII; both stores compare them bytewise.
    const expected = [...ids].sort().reverse();
    const { pages, more } = await listAll(store(), owner.id, {}, 3);
    assert.deepEqual(
      pages.flat().map((c) => c.id),
      expected,
    );
    assert.deepEqual(more, [true, true, false]);
    const filtered = await listAll(store(), owner.id, { search: "telegram" }, 2);
    assert.deepEqual(
      filtered.pages.flat().map((c) => c.id),
      expected,
    );
  });

  it("rejects a cursor it did not make", async () => {
    const owner = await newOwner(store());
    for (const cursor of ["garbage!", Buffer.from('{"a":1}').toString("base64url"), ""]) {
      await assert.rejects(
        store().conversations.list(owner.id, {}, 10, cursor),
        (error: unknown) => error instanceof ValidationError,
      );
    }
  });
});
