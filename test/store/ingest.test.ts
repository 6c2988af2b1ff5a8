import assert from "node:assert/strict";
import { it } from "node:test";
import { describeStores, inbound, newChannel, newOwner, unique } from "../helpers/stores.js";

// Customer messages from the platforms: upserts, seq assignment and idempotency.

describeStores("ingest", ({ store }) => {
  it("creates the customer and conversation, then appends with the next seq", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const before = Date.now();
    const first = await store().messages.ingest(
      inbound(channel, { externalMessageId: "m1", content: "Hi", sentAt: 1_700_000_000_000 }),
    );

    assert.equal(first.duplicate, false);
    assert.equal(first.customerCreated, true);
    const customer = first.message.customer;
    assert.deepEqual(
      { ...customer, id: 0, createdAt: 0 },
      {
        id: 0,
        ownerId: owner.id,
        source: "telegram",
        externalId: "cust-1",
        firstName: "John",
        lastName: "Doe",
        username: "johnd",
        profilePicture: null,
        createdAt: 0,
      },
    );
    assert.deepEqual(
      { ...first.message, id: "" },
      {
        id: "",
        conversationId: first.conversation.id,
        seq: 1,
        content: "Hi",
        type: "customer",
        customer,
        sender: null,
        isAiResponse: false,
        isAnswered: false,
        deliveryStatus: "received",
        deliveryError: null,
        clientId: null,
        attachments: [],
        createdAt: 1_700_000_000_000,
      },
    );
    const conversation = first.conversation;
    assert.match(conversation.id, /^c_[A-Za-z0-9_-]+$/);
    assert.equal(conversation.ownerId, owner.id);
    assert.equal(conversation.channelId, channel.id);
    assert.equal(conversation.title, "telegram - John Doe");
    assert.equal(conversation.status, "support_active");
    assert.equal(conversation.source, "telegram");
    assert.equal(conversation.priority, 1);
    assert.equal(conversation.lastSeq, 1);
    assert.equal(conversation.unreadCount, 1);
    assert.deepEqual(conversation.customer, customer);
    assert.deepEqual(conversation.lastMessage, {
      id: first.message.id,
      content: "Hi",
      type: "customer",
      createdAt: 1_700_000_000_000,
    });
    // updated_at follows the store's clock, not the (old) sentAt.
    assert.ok(conversation.updatedAt >= before && conversation.updatedAt <= Date.now());

    const second = await store().messages.ingest(
      inbound(channel, { externalMessageId: "m2", content: "Anyone?", firstName: "Changed" }),
    );
    assert.equal(second.duplicate, false);
    assert.equal(second.customerCreated, false);
    assert.equal(second.message.seq, 2);
    assert.equal(second.conversation.id, conversation.id);
    assert.equal(second.conversation.lastSeq, 2);
    assert.equal(second.conversation.unreadCount, 2);
    assert.equal(second.conversation.lastMessage?.content, "Anyone?");
    // A later message does not overwrite the stored profile.
    assert.equal(second.message.customer.firstName, "John");
    assert.equal(second.conversation.title, "telegram - John Doe");
    assert.ok(second.message.createdAt >= before);
  });

  it("returns a duplicate platform message without storing it or taking a seq", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const original = await store().messages.ingest(inbound(channel, { externalMessageId: "42" }));
    const retry = await store().messages.ingest(
      inbound(channel, { externalMessageId: "42", content: "different text" }),
    );
    assert.equal(retry.duplicate, true);
    assert.equal(retry.customerCreated, false);
    assert.deepEqual(retry.message, original.message);
    assert.deepEqual(retry.conversation, original.conversation);

    const next = await store().messages.ingest(inbound(channel, { externalMessageId: "43" }));
    assert.equal(next.message.seq, 2);
    assert.equal(next.conversation.unreadCount, 2);
    const page = await store().messages.recent(original.conversation.id, 10);
    assert.deepEqual(
      page.messages.map((m) => [m.seq, m.content]),
      [
        [1, "Hello"],
        [2, "Hello"],
      ],
    );
  });

  it("keeps one customer per owner, platform and id, and one conversation per channel", async () => {
    const owner = await newOwner(store());
    const bot1 = await newChannel(store(), owner.id);
    const bot2 = await newChannel(store(), owner.id);
    const otherOwner = await newOwner(store());
    const otherBot = await newChannel(store(), otherOwner.id);

    const a = await store().messages.ingest(inbound(bot1));
    const b = await store().messages.ingest(inbound(bot2));
    const c = await store().messages.ingest(inbound(otherBot));
    assert.equal(b.customerCreated, false);
    assert.equal(b.message.customer.id, a.message.customer.id);
    assert.notEqual(b.conversation.id, a.conversation.id);
    assert.equal(b.message.seq, 1);
    assert.equal(c.customerCreated, true);
    assert.notEqual(c.message.customer.id, a.message.customer.id);
  });

  it("stores one customer, one conversation and gap-free seqs under concurrent first messages", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const customerExternalId = unique("new-customer");
    // 20 deliveries at once: 10 distinct messages, each delivered twice (a platform retry).
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store().messages.ingest(
          inbound(channel, {
            customerExternalId,
            externalMessageId: `m${i % 10}`,
            content: `text ${i % 10}`,
          }),
        ),
      ),
    );

    assert.equal(results.filter((r) => r.customerCreated).length, 1);
    assert.equal(new Set(results.map((r) => r.message.customer.id)).size, 1);
    assert.equal(new Set(results.map((r) => r.conversation.id)).size, 1);
    assert.equal(results.filter((r) => r.duplicate).length, 10);
    const stored = results.filter((r) => !r.duplicate).map((r) => r.message.seq);
    assert.deepEqual(
      stored.sort((x, y) => x - y),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    // Each duplicate returned the message stored for its platform id.
    const byExternal = new Map<string, string>();
    for (const [i, r] of results.entries()) {
      const key = `m${i % 10}`;
      assert.equal(r.message.content, `text ${i % 10}`);
      const seen = byExternal.get(key);
      if (seen === undefined) byExternal.set(key, r.message.id);
      else assert.equal(r.message.id, seen);
    }

    const conversationId = results[0]?.conversation.id ?? "";
    const page = await store().messages.recent(conversationId, 50);
    assert.deepEqual(
      page.messages.map((m) => m.seq),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    const conversation = await store().conversations.findById(conversationId);
    assert.equal(conversation?.lastSeq, 10);
    assert.equal(conversation?.unreadCount, 10);
  });

  it("stores 20 concurrent distinct first messages of a new customer as seqs 1 to 20", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const customerExternalId = unique("burst");
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store().messages.ingest(
          inbound(channel, { customerExternalId, externalMessageId: `b${i}` }),
        ),
      ),
    );
    assert.equal(results.filter((r) => r.customerCreated).length, 1);
    assert.equal(results.filter((r) => r.duplicate).length, 0);
    assert.equal(new Set(results.map((r) => r.conversation.id)).size, 1);
    assert.deepEqual(
      results.map((r) => r.message.seq).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it("stores the messages of a batch whose transaction failed one by one, failing only the bad one", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const customerExternalId = unique("batch");
    // Submitted at once: the writers are busy with the first ones, so the rest are stored
    // together, the last of them referring to a channel that does not exist.
    const good = Array.from({ length: 7 }, (_, i) =>
      store().messages.ingest(
        inbound(channel, { customerExternalId, externalMessageId: `g${i}`, content: `g${i}` }),
      ),
    );
    const bad = store().messages.ingest(
      inbound({ ...channel, id: unique("ch_missing") }, { customerExternalId }),
    );
    // Expected before waiting for the others: the bad one may fail first.
    const refused = assert.rejects(bad, /foreign key/i);
    const stored = await Promise.all(good);
    await refused;

    assert.equal(stored.filter((r) => r.duplicate).length, 0);
    assert.deepEqual(
      stored.map((r) => r.message.seq).sort((x, y) => x - y),
      [1, 2, 3, 4, 5, 6, 7],
    );
    const conversationId = stored[0]?.conversation.id ?? "";
    const page = await store().messages.recent(conversationId, 50);
    assert.deepEqual(page.messages.map((m) => m.content).sort(), [
      "g0",
      "g1",
      "g2",
      "g3",
      "g4",
      "g5",
      "g6",
    ]);
  });

  it("reopens a closed conversation as support_active", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const { conversation } = await store().messages.ingest(inbound(channel));
    await store().conversations.update(conversation.id, { status: "closed" });
    const again = await store().messages.ingest(inbound(channel));
    assert.equal(again.conversation.id, conversation.id);
    assert.equal(again.conversation.status, "support_active");

    await store().conversations.update(conversation.id, { status: "marketing_active" });
    const more = await store().messages.ingest(inbound(channel));
    assert.equal(more.conversation.status, "marketing_active");
  });

  it("updates a customer's profile and the titles of their conversations", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id, "instagram");
    const first = await store().messages.ingest(
      inbound(channel, { firstName: "", lastName: "", username: null }),
    );
    assert.equal(first.conversation.title, "instagram -");
    const updatedAt = first.conversation.updatedAt;

    const customer = await store().customers.updateProfile(first.message.customer.id, {
      firstName: "Jane",
      lastName: "Roe",
      username: "jane.roe",
      profilePicture: "https://example.com/p.jpg",
    });
    assert.deepEqual(customer, {
      ...first.message.customer,
      firstName: "Jane",
      lastName: "Roe",
      username: "jane.roe",
      profilePicture: "https://example.com/p.jpg",
    });
    assert.deepEqual(await store().customers.findById(first.message.customer.id), customer);
    const conversation = await store().conversations.findById(first.conversation.id);
    assert.equal(conversation?.title, "instagram - Jane Roe");
    assert.equal(conversation?.updatedAt, updatedAt);
    assert.deepEqual(conversation?.customer, customer);

    const partial = await store().customers.updateProfile(first.message.customer.id, {
      lastName: "",
    });
    assert.equal(partial?.firstName, "Jane");
    assert.equal(partial?.lastName, "");
    assert.equal(
      (await store().conversations.findById(first.conversation.id))?.title,
      "instagram - Jane",
    );
    assert.equal(await store().customers.updateProfile(999_999, { firstName: "X" }), undefined);
    assert.equal(await store().customers.findById(999_999), undefined);
  });

  it("edits a customer message found by its platform id", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    const { message } = await store().messages.ingest(
      inbound(channel, { customerExternalId: "c-7", externalMessageId: "e1", content: "teh" }),
    );
    const edited = await store().messages.editByExternalId({
      channelId: channel.id,
      customerExternalId: "c-7",
      externalMessageId: "e1",
      content: "the",
    });
    assert.deepEqual(edited, { ...message, content: "the" });
    assert.equal((await store().messages.findById(message.id))?.content, "the");

    const unknown = {
      channelId: channel.id,
      customerExternalId: "c-7",
      externalMessageId: "never-seen",
      content: "x",
    };
    assert.equal(await store().messages.editByExternalId(unknown), undefined);
    // The same platform id from another customer is another message.
    assert.equal(
      await store().messages.editByExternalId({
        ...unknown,
        customerExternalId: "c-8",
        externalMessageId: "e1",
      }),
      undefined,
    );
    assert.equal(await store().messages.findById("01NOTAMESSAGE"), undefined);
  });
});
