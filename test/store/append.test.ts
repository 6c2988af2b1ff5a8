import assert from "node:assert/strict";
import { it } from "node:test";
import { NotFoundError } from "../../src/errors.js";
import type { NewOutgoingMessage } from "../../src/store/store.js";
import { describeStores, inbound, newConversation } from "../helpers/stores.js";

// Outgoing messages: seq under concurrency, client retries, answered marks, status moves.

function support(
  conversationId: string,
  senderId: number,
  extra: Partial<NewOutgoingMessage> = {},
): NewOutgoingMessage {
  return {
    conversationId,
    type: "support",
    senderId,
    content: "How can I help?",
    clientId: null,
    deliver: true,
    ...extra,
  };
}

describeStores("append", ({ store }) => {
  it("stores a support message with its sender and queues it for delivery", async () => {
    const { owner, conversation } = await newConversation(store());
    const before = Date.now();
    const result = await store().messages.append(
      support(conversation.id, owner.id, { clientId: "c-1" }),
    );
    assert.equal(result.duplicate, false);
    assert.deepEqual(
      { ...result.message, id: "", createdAt: 0 },
      {
        id: "",
        conversationId: conversation.id,
        seq: 2,
        content: "How can I help?",
        type: "support",
        customer: conversation.customer,
        sender: { id: owner.id, username: owner.username },
        isAiResponse: false,
        isAnswered: true,
        deliveryStatus: "pending",
        deliveryError: null,
        clientId: "c-1",
        attachments: [],
        createdAt: 0,
      },
    );
    assert.ok(result.message.createdAt >= before);
    assert.equal(result.conversation.lastSeq, 2);
    assert.equal(result.conversation.unreadCount, 1);
    assert.ok(result.conversation.updatedAt >= before);
    assert.deepEqual(result.conversation.lastMessage, {
      id: result.message.id,
      content: "How can I help?",
      type: "support",
      createdAt: result.message.createdAt,
    });
    assert.deepEqual(await store().messages.findById(result.message.id), result.message);
  });

  it("stores without queueing when delivery is not wanted, and AI messages have no sender", async () => {
    const { conversation } = await newConversation(store());
    const quiet = await store().messages.append({
      conversationId: conversation.id,
      type: "marketing",
      senderId: null,
      content: "Sale!",
      clientId: null,
      deliver: false,
    });
    assert.equal(quiet.message.deliveryStatus, "sent");
    assert.equal(quiet.message.sender, null);
    assert.equal(quiet.message.isAnswered, true);
    assert.equal(quiet.message.isAiResponse, false);
    // Marketing is not an answer to the customer.
    assert.deepEqual(quiet.answered, []);

    const ai = await store().messages.append({
      conversationId: conversation.id,
      type: "AI",
      senderId: null,
      content: "Auto answer",
      clientId: "ai-1",
      deliver: true,
    });
    assert.equal(ai.message.isAiResponse, true);
    assert.equal(ai.message.sender, null);
    assert.equal(ai.message.deliveryStatus, "pending");
    assert.deepEqual(
      ai.answered.map((m) => m.seq),
      [1],
    );
    const again = await store().messages.append({
      conversationId: conversation.id,
      type: "AI",
      senderId: null,
      content: "Auto answer",
      clientId: "ai-1",
      deliver: true,
    });
    assert.equal(again.duplicate, true);
    assert.equal(again.message.id, ai.message.id);
  });

  it("throws NotFoundError for an unknown conversation", async () => {
    const { owner } = await newConversation(store());
    await assert.rejects(
      store().messages.append(support("c_missing", owner.id)),
      (error: unknown) => error instanceof NotFoundError,
    );
  });

  it("finds no conversation of another owner, before writing anything", async () => {
    const { owner, conversation } = await newConversation(store());
    const stored = await store().messages.append(
      support(conversation.id, owner.id, { clientId: "mine", ownerId: owner.id }),
    );
    assert.equal(stored.message.seq, 2);
    for (const clientId of [null, "mine"]) {
      await assert.rejects(
        store().messages.append(support(conversation.id, owner.id, { clientId, ownerId: -1 })),
        (error: unknown) =>
          error instanceof NotFoundError && error.message === "Conversation not found",
      );
    }
    const after = await store().conversations.findById(conversation.id);
    assert.equal(after?.lastSeq, 2);
    const page = await store().messages.recent(conversation.id, 10);
    assert.deepEqual(
      page.messages.map((m) => m.seq),
      [1, 2],
    );
  });

  it("assigns seqs 1 to 100 to 100 concurrent appends", async () => {
    const { owner, conversation } = await newConversation(store());
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        store().messages.append(
          support(conversation.id, owner.id, { content: `m${i}`, deliver: i % 2 === 0 }),
        ),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.message.seq).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 2),
    );
    const after = await store().conversations.findById(conversation.id);
    assert.equal(after?.lastSeq, 101);
    const page = await store().messages.recent(conversation.id, 200);
    assert.deepEqual(
      page.messages.map((m) => m.seq),
      Array.from({ length: 101 }, (_, i) => i + 1),
    );
    // The one customer message was answered by exactly one of them.
    assert.equal(results.flatMap((r) => r.answered).length, 1);
  });

  it("returns the stored message for a repeated clientId without taking a seq", async () => {
    const { owner, conversation } = await newConversation(store());
    const other = await store().users.create({
      username: `${owner.username}_2`,
      passwordHash: "h",
      firstName: "",
      lastName: "",
    });
    const first = await store().messages.append(
      support(conversation.id, owner.id, { clientId: "same" }),
    );
    const retry = await store().messages.append(
      support(conversation.id, owner.id, { clientId: "same", content: "changed" }),
    );
    assert.equal(retry.duplicate, true);
    assert.deepEqual(retry.message, first.message);
    assert.deepEqual(retry.conversation, first.conversation);
    assert.deepEqual(retry.answered, []);

    // Concurrent retries of one clientId store it once.
    const burst = await Promise.all(
      Array.from({ length: 10 }, () =>
        store().messages.append(support(conversation.id, owner.id, { clientId: "burst" })),
      ),
    );
    assert.equal(burst.filter((r) => !r.duplicate).length, 1);
    assert.equal(new Set(burst.map((r) => r.message.id)).size, 1);

    // Another agent may use the same clientId.
    const theirs = await store().messages.append(
      support(conversation.id, other.id, { clientId: "same" }),
    );
    assert.equal(theirs.duplicate, false);
    assert.equal(theirs.message.seq, 4);
    assert.equal(theirs.message.sender?.username, other.username);
  });

  it("moves active and closed conversations to support_active on a support message", async () => {
    const { owner, conversation } = await newConversation(store());
    for (const from of ["closed", "active"] as const) {
      await store().conversations.update(conversation.id, { status: from });
      const result = await store().messages.append(support(conversation.id, owner.id));
      assert.equal(result.conversation.status, "support_active");
    }
    await store().conversations.update(conversation.id, { status: "marketing_active" });
    const kept = await store().messages.append(support(conversation.id, owner.id));
    assert.equal(kept.conversation.status, "marketing_active");

    await store().conversations.update(conversation.id, { status: "closed" });
    const ai = await store().messages.append({
      conversationId: conversation.id,
      type: "AI",
      senderId: null,
      content: "bot",
      clientId: null,
      deliver: false,
    });
    assert.equal(ai.conversation.status, "closed");
  });

  it("marks earlier customer messages answered and returns them updated", async () => {
    const { owner, channel, conversation } = await newConversation(store());
    const second = await store().messages.ingest(inbound(channel, { content: "second" }));
    const third = await store().messages.ingest(inbound(channel, { content: "third" }));
    assert.equal(third.message.isAnswered, false);

    const reply = await store().messages.append(support(conversation.id, owner.id));
    assert.deepEqual(
      reply.answered.map((m) => [m.seq, m.content, m.isAnswered]),
      [
        [1, "Hello", true],
        [2, "second", true],
        [3, "third", true],
      ],
    );
    assert.deepEqual(reply.answered[1], { ...second.message, isAnswered: true });
    assert.equal((await store().messages.findById(third.message.id))?.isAnswered, true);

    const fourth = await store().messages.ingest(inbound(channel, { content: "fourth" }));
    const next = await store().messages.append(support(conversation.id, owner.id));
    assert.deepEqual(
      next.answered.map((m) => m.id),
      [fourth.message.id],
    );
    const none = await store().messages.append(support(conversation.id, owner.id));
    assert.deepEqual(none.answered, []);
  });
});
