import assert from "node:assert/strict";
import { before, it } from "node:test";
import { NO_ATTACHMENT_FIELDS } from "../../src/domain/attachment-fields.js";
import type { InboundAttachment, MessagePage } from "../../src/domain/types.js";
import { describeStores, inbound, newChannel, newOwner } from "../helpers/stores.js";

// The three message windows of the chat socket and REST: recent, after a seq, before a seq.

const seqs = (page: MessagePage) => page.messages.map((m) => m.seq);
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describeStores("message pages", ({ store }) => {
  let conversationId = "";
  let agent = { id: 0, username: "" };

  before(async () => {
    const owner = await newOwner(store());
    agent = { id: owner.id, username: owner.username };
    const channel = await newChannel(store(), owner.id);
    // 10 messages: odd seqs from the customer, even seqs from the agent.
    for (let i = 1; i <= 10; i++) {
      if (i % 2 === 1) {
        const { conversation } = await store().messages.ingest(
          inbound(channel, { content: `m${i}` }),
        );
        conversationId = conversation.id;
      } else {
        await store().messages.append({
          conversationId,
          type: "support",
          senderId: owner.id,
          content: `m${i}`,
          clientId: null,
          deliver: false,
        });
      }
    }
  });

  it("recent: the last messages, oldest first", async () => {
    const page = await store().messages.recent(conversationId, 4);
    assert.deepEqual(seqs(page), [7, 8, 9, 10]);
    assert.equal(page.hasMore, true);
    assert.deepEqual(
      page.messages.map((m) => m.content),
      ["m7", "m8", "m9", "m10"],
    );
    assert.deepEqual(page.messages[1]?.sender, agent);
    assert.equal(page.messages[0]?.sender, null);
    // One customer object serves the page; every message carries it.
    assert.ok(page.messages.every((m) => m.customer.externalId === "cust-1"));

    assert.deepEqual(seqs(await store().messages.recent(conversationId, 10)), range(1, 10));
    assert.equal((await store().messages.recent(conversationId, 10)).hasMore, false);
    assert.equal((await store().messages.recent(conversationId, 9)).hasMore, true);
    assert.deepEqual(await store().messages.recent("c_none", 10), { messages: [], hasMore: false });
    // A page shows each message exactly as it is read alone, field for field.
    for (const message of (await store().messages.recent(conversationId, 10)).messages) {
      assert.deepEqual(message, await store().messages.findById(message.id));
    }
  });

  it("after: messages following a seq, oldest first", async () => {
    const page = await store().messages.after(conversationId, 3, 4);
    assert.deepEqual(seqs(page), [4, 5, 6, 7]);
    assert.equal(page.hasMore, true);
    const tail = await store().messages.after(conversationId, 6, 4);
    assert.deepEqual(seqs(tail), [7, 8, 9, 10]);
    assert.equal(tail.hasMore, false);
    assert.deepEqual(seqs(await store().messages.after(conversationId, 0, 100)), range(1, 10));
    assert.deepEqual(await store().messages.after(conversationId, 10, 5), {
      messages: [],
      hasMore: false,
    });
  });

  it("before: the newest messages preceding a seq, oldest first", async () => {
    const page = await store().messages.before(conversationId, 8, 3);
    assert.deepEqual(seqs(page), [5, 6, 7]);
    assert.equal(page.hasMore, true);
    const head = await store().messages.before(conversationId, 4, 3);
    assert.deepEqual(seqs(head), [1, 2, 3]);
    assert.equal(head.hasMore, false);
    assert.deepEqual(seqs(await store().messages.before(conversationId, 11, 50)), range(1, 10));
    assert.deepEqual(await store().messages.before(conversationId, 1, 5), {
      messages: [],
      hasMore: false,
    });
  });

  it("pages carry each message's attachments in order, and the customer given or read", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const file = (fileName: string): InboundAttachment => ({
      ...NO_ATTACHMENT_FIELDS,
      kind: "document",
      ref: null,
      fileName,
    });
    let id = "";
    for (const names of [["a1", "a2"], [], ["b1"], [], ["c1", "c2", "c3"]]) {
      const { conversation } = await store().messages.ingest(
        inbound(channel, { content: `with ${names.length}`, attachments: names.map(file) }),
      );
      id = conversation.id;
    }
    const names = (page: MessagePage) =>
      page.messages.map((m) => m.attachments.map((a) => a.fileName).join(","));
    const recent = await store().messages.recent(id, 10);
    assert.deepEqual(names(recent), ["a1,a2", "", "b1", "", "c1,c2,c3"]);
    assert.deepEqual(names(await store().messages.after(id, 2, 2)), ["b1", ""]);
    assert.deepEqual(names(await store().messages.before(id, 5, 2)), ["b1", ""]);
    // Read with the conversation, or handed in by a caller that just read it: the same.
    const conversation = await store().conversations.findById(id);
    assert.ok(conversation);
    assert.deepEqual(await store().messages.recent(id, 10, conversation.customer), recent);
    assert.deepEqual(recent.messages[0]?.customer, conversation.customer);
    for (const message of recent.messages) {
      assert.deepEqual(message, await store().messages.findById(message.id));
    }
  });

  it("reads a user with their own conversation in one; another's or a missing one is none", async () => {
    const owner = await newOwner(store());
    const other = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const { conversation } = await store().messages.ingest(inbound(channel, { content: "x" }));
    const own = await store().users.findWithConversation(owner.id, conversation.id);
    assert.deepEqual(own, {
      user: await store().users.findById(owner.id),
      conversation: await store().conversations.findById(conversation.id),
    });
    assert.deepEqual(await store().users.findWithConversation(other.id, conversation.id), {
      user: await store().users.findById(other.id),
      conversation: undefined,
    });
    assert.deepEqual(await store().users.findWithConversation(owner.id, "c_missing"), {
      user: await store().users.findById(owner.id),
      conversation: undefined,
    });
    assert.equal(await store().users.findWithConversation(999_999, conversation.id), undefined);
    assert.equal(await store().conversations.lastSeq(conversation.id), 1);
    assert.equal(await store().conversations.lastSeq("c_missing"), undefined);
  });
});
