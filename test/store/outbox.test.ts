import assert from "node:assert/strict";
import { it } from "node:test";
import { NotFoundError } from "../../src/errors.js";
import type { Store } from "../../src/store/store.js";
import { describeStores, newConversation } from "../helpers/stores.js";

// The delivery queue: leases, retries and final states. Each test works in its own suite
// (its own store), because claimDue sees every job of a store.

async function queue(store: Store, count: number, content = "reply") {
  const { owner, conversation } = await newConversation(store, { customerExternalId: "chat-77" });
  const messages = [];
  for (let i = 0; i < count; i++) {
    const { message } = await store.messages.append({
      conversationId: conversation.id,
      type: "support",
      senderId: owner.id,
      content: `${content} ${i}`,
      clientId: null,
      deliver: true,
    });
    messages.push(message);
  }
  return { conversation, messages };
}

const FAR = Date.now() + 60_000;

describeStores("outbox lease", ({ store, sql }) => {
  it("queues one job per delivered message and leases it until the lease ends", async () => {
    assert.equal(await store().outbox.nextDueAt(), undefined);
    const before = Date.now();
    const { conversation, messages } = await queue(store(), 1, "hi");
    const message = messages[0];
    assert.ok(message);
    const due = await store().outbox.nextDueAt();
    assert.ok(due !== undefined && due >= before && due <= Date.now());
    assert.deepEqual(await store().outbox.claimDue(before - 1, 10, 1000), []);

    const [job, ...rest] = await store().outbox.claimDue(FAR, 10, 1000);
    assert.deepEqual(rest, []);
    assert.deepEqual(
      { ...job, id: 0 },
      {
        id: 0,
        messageId: message.id,
        channelId: conversation.channelId,
        recipientExternalId: "chat-77",
        content: "hi 0",
        attempts: 0,
        attachments: [],
        caption: null,
        step: 0,
      },
    );
    // Leased: not handed out again, even at the lease's last millisecond.
    assert.deepEqual(await store().outbox.claimDue(FAR, 10, 1000), []);
    assert.deepEqual(await store().outbox.claimDue(FAR + 1000, 10, 1000), []);
    // A leased job becomes claimable just after its lease; nextDueAt says so.
    assert.equal(await store().outbox.nextDueAt(), FAR + 1001);
    const [reclaimed] = await store().outbox.claimDue(FAR + 1001, 10, 1000);
    assert.equal(reclaimed?.id, job?.id);
    assert.deepEqual(await sql("select locked_until from outbox where id = ?", [job?.id]), [
      { locked_until: FAR + 2001 },
    ]);

    await store().outbox.markRetry(job?.id ?? 0, FAR + 5000, "HTTP 502");
    assert.deepEqual(
      await sql("select attempts, next_attempt_at, locked_until, last_error from outbox"),
      [{ attempts: 1, next_attempt_at: FAR + 5000, locked_until: null, last_error: "HTTP 502" }],
    );
    assert.equal(await store().outbox.nextDueAt(), FAR + 5000);
    assert.deepEqual(await store().outbox.claimDue(FAR + 4999, 10, 1000), []);
    const [retried] = await store().outbox.claimDue(FAR + 5000, 10, 1000);
    assert.equal(retried?.attempts, 1);

    const sent = await store().outbox.markSent(retried?.id ?? 0);
    assert.deepEqual(sent, { ...message, deliveryStatus: "sent" });
    assert.deepEqual(await store().messages.findById(message.id), sent);
    assert.equal(await store().outbox.nextDueAt(), undefined);
    assert.deepEqual(await store().outbox.claimDue(FAR * 2, 10, 1000), []);
    await assert.rejects(
      store().outbox.markSent(retried?.id ?? 0),
      (error: unknown) => error instanceof NotFoundError,
    );
  });
});

describeStores("outbox failure and limits", ({ store }) => {
  it("claims in due order up to the limit and records failures on the message", async () => {
    const { messages } = await queue(store(), 5);
    const first = await store().outbox.claimDue(FAR, 2, 1000);
    assert.deepEqual(
      first.map((j) => j.messageId),
      messages.slice(0, 2).map((m) => m.id),
    );
    const second = await store().outbox.claimDue(FAR, 10, 1000);
    assert.deepEqual(
      second.map((j) => j.messageId),
      messages.slice(2).map((m) => m.id),
    );
    assert.deepEqual(await store().outbox.claimDue(FAR, 0, 1000), []);

    const job = first[0];
    assert.ok(job);
    const failed = await store().outbox.markFailed(job.id, "Forbidden: bot was blocked");
    assert.equal(failed.id, job.messageId);
    assert.equal(failed.deliveryStatus, "failed");
    assert.equal(failed.deliveryError, "Forbidden: bot was blocked");
    assert.deepEqual(await store().messages.findById(job.messageId), failed);
    // Finished jobs are gone; the other four remain (leased).
    for (const other of [...first.slice(1), ...second]) {
      await store().outbox.markSent(other.id);
    }
    assert.equal(await store().outbox.nextDueAt(), undefined);
  });
});

describeStores("outbox concurrency", ({ store, kind }) => {
  it("never hands one job to two concurrent claims", async () => {
    const { messages } = await queue(store(), 30);
    const claims = await Promise.all(
      Array.from({ length: 6 }, () => store().outbox.claimDue(FAR, 7, 60_000)),
    );
    const ids = claims.flat().map((j) => j.id);
    assert.equal(new Set(ids).size, ids.length, `${kind}: a job was claimed twice`);
    assert.equal(ids.length, 30);
    assert.deepEqual(
      claims
        .flat()
        .map((j) => j.messageId)
        .sort(),
      messages.map((m) => m.id).sort(),
    );
  });
});

describeStores("outbox jobs queued here", ({ store, sql, kind }) => {
  it("claims the jobs this process queued by id, once, as a search would give them", async () => {
    const outbox = store().outbox;
    assert.ok(outbox.claimQueued);
    const { conversation, messages } = await queue(store(), 3, "noted");
    const now = Date.now();
    const noted = await outbox.claimQueued(now, 2, 1000);
    assert.deepEqual(
      noted?.map((j) => ({ ...j, id: 0 })),
      messages.slice(0, 2).map((m) => ({
        id: 0,
        messageId: m.id,
        channelId: conversation.channelId,
        recipientExternalId: "chat-77",
        content: m.content,
        attempts: 0,
        attachments: [],
        caption: null,
        step: 0,
      })),
    );
    // Leased by the claim: a search does not hand them out again, but finds the third.
    const searched = await outbox.claimDue(now, 10, 1000);
    assert.deepEqual(
      searched.map((j) => j.messageId),
      [messages[2]?.id],
    );
    // The search took the third one's note with it; nothing is left to claim by id.
    assert.equal(await outbox.claimQueued(now, 10, 1000), undefined);

    // A job leased elsewhere (another process) is not claimed through its note.
    const { messages: taken } = await queue(store(), 1, "taken");
    await sql("update outbox set locked_until = ? where message_id = ?", [FAR, taken[0]?.id]);
    const { messages: last } = await queue(store(), 1, "free");
    const claimed = await outbox.claimQueued(Date.now(), 10, 1000);
    assert.deepEqual(
      claimed?.map((j) => j.messageId),
      [last[0]?.id],
      kind,
    );

    const sent = await outbox.markSent(claimed?.[0]?.id ?? 0, []);
    assert.deepEqual(sent, { ...last[0], deliveryStatus: "sent" });
    assert.deepEqual(await store().messages.findById(sent.id), sent);
  });
});
