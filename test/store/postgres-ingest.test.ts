import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import type { Kysely } from "kysely";
import { NO_ATTACHMENT_FIELDS } from "../../src/domain/attachment-fields.js";
import type { Channel } from "../../src/domain/types.js";
import { openPostgres } from "../../src/store/sql/connect.js";
import { createSqlStore } from "../../src/store/sql/create-store.js";
import type { IngestRequest } from "../../src/store/sql/ingest.js";
import { ingestKnownConversations } from "../../src/store/sql/postgres-ingest.js";
import type { Database, SqlContext } from "../../src/store/sql/schema.js";
import type { IngestResult, Store } from "../../src/store/store.js";
import {
  type FreshPostgres,
  freshPostgres,
  inbound,
  newChannel,
  newOwner,
} from "../helpers/stores.js";

// PostgreSQL stores a known conversation's customer message with one call of
// `fiko_ingest_known`. These tests call it directly, to see which messages it takes and which it
// leaves to the general path, and race two stores (two pools, as two processes) through it.

const database = await freshPostgres();
if (database === undefined && process.env.REQUIRE_SERVICES !== "1") {
  console.log("skipped: postgres ingest function (PostgreSQL not reachable)");
}
const skip = database === undefined && process.env.REQUIRE_SERVICES !== "1";

let fresh: FreshPostgres;
let store: Store;
let other: Store;
let ctx: SqlContext;

before(async () => {
  if (skip) return;
  if (database === undefined) throw new Error("PostgreSQL is required (REQUIRE_SERVICES=1)");
  fresh = database;
  store = await createSqlStore({ databaseUrl: fresh.databaseUrl, schema: fresh.schema });
  await store.migrate();
  other = await createSqlStore({ databaseUrl: fresh.databaseUrl, schema: fresh.schema });
  const db: Kysely<Database> = openPostgres(fresh.databaseUrl, fresh.schema, undefined);
  ctx = { db, dialect: "postgres" };
});

after(async () => {
  if (skip) return;
  await ctx.db.destroy();
  await other.close();
  await store.close();
  await fresh.drop();
});

/** A channel with one customer ("cust-1") whose conversation holds a first message. */
async function knownConversation(): Promise<{ channel: Channel; conversationId: string }> {
  const owner = await newOwner(store);
  const channel = await newChannel(store, owner.id);
  const first = await store.messages.ingest(inbound(channel, { externalMessageId: "first" }));
  return { channel, conversationId: first.conversation.id };
}

const request = (inboundMessage: IngestRequest["inbound"]): IngestRequest => ({
  inbound: inboundMessage,
  answers: undefined,
});

/** The function's results; undefined where the general path must store the message. */
async function ingestKnown(requests: IngestRequest[]): Promise<(IngestResult | undefined)[]> {
  const outcomes = await ingestKnownConversations(ctx, requests);
  return outcomes.map((outcome) => {
    if (outcome?.status === "rejected") throw outcome.reason;
    return outcome?.value;
  });
}

const outcome = (result: IngestResult | undefined) =>
  result === undefined
    ? "general path"
    : `${result.duplicate ? "duplicate" : "stored"} seq ${result.message.seq} ${result.message.content}`;

it("stores known conversations' text messages and leaves the rest, and what follows it, to the general path", {
  skip,
}, async () => {
  const { channel, conversationId } = await knownConversation();
  const image = {
    ...NO_ATTACHMENT_FIELDS,
    kind: "photo" as const,
    mimeType: "image/jpeg",
    size: 10,
    width: 1,
    height: 1,
    ref: { platform: "telegram" as const, fileId: "f1" },
  };
  const results = await ingestKnown([
    request(inbound(channel, { externalMessageId: "a", content: "two" })),
    request(inbound(channel, { externalMessageId: "b", content: "three" })),
    request(inbound(channel, { externalMessageId: "c", content: "media", attachments: [image] })),
    // Behind the media message of its conversation: stored after it, by the general path.
    request(inbound(channel, { externalMessageId: "d", content: "after media" })),
    request(inbound(channel, { customerExternalId: "new-customer", externalMessageId: "e" })),
    request(inbound(channel, { externalMessageId: "a", content: "two again" })),
  ]);
  assert.deepEqual(results.map(outcome), [
    "stored seq 2 two",
    "stored seq 3 three",
    "general path",
    "general path",
    "general path",
    "general path",
  ]);
  const stored = results[1];
  assert.equal(stored?.conversation.id, conversationId);
  assert.equal(stored?.conversation.lastSeq, 3);
  assert.equal(stored?.conversation.unreadCount, 3);
  assert.equal(stored?.conversation.lastMessage?.content, "three");
  assert.equal(stored?.message.customer.externalId, "cust-1");
  assert.equal(stored?.customerCreated, false);
  assert.equal(stored?.answerScheduled, false);

  const page = await store.messages.recent(conversationId, 10);
  assert.deepEqual(
    page.messages.map((m) => `${m.seq} ${m.content}`),
    ["1 Hello", "2 two", "3 three"],
  );
});

it("answers a platform retry with the message stored the first time", { skip }, async () => {
  const { channel, conversationId } = await knownConversation();
  const [first] = await ingestKnown([
    request(inbound(channel, { externalMessageId: "retry", content: "once" })),
  ]);
  const [again] = await ingestKnown([
    request(inbound(channel, { externalMessageId: "retry", content: "twice" })),
  ]);
  assert.equal(outcome(first), "stored seq 2 once");
  assert.equal(outcome(again), "duplicate seq 2 once");
  assert.equal(again?.message.id, first?.message.id);
  assert.equal(again?.conversation.id, conversationId);
  assert.equal(again?.conversation.lastSeq, 2);
});

it("reopens a closed conversation and moves the automatic answer on in an active one", {
  skip,
}, async () => {
  const { channel, conversationId } = await knownConversation();
  await store.conversations.update(conversationId, { status: "closed" });
  const [reopened] = await ingestKnown([request(inbound(channel, { externalMessageId: "r1" }))]);
  assert.equal(reopened?.conversation.status, "support_active");
  assert.equal(reopened?.answerScheduled, false);

  await store.aiSettings.update(channel.ownerId, { enabled: true });
  await store.conversations.update(conversationId, { status: "active" });
  const before = Date.now();
  const [scheduled] = await ingestKnown([
    { inbound: inbound(channel, { externalMessageId: "r2" }), answers: { replyDelayMs: 60_000 } },
  ]);
  assert.equal(scheduled?.answerScheduled, true);
  assert.equal(scheduled?.message.seq, 3);
  const job = await ctx.db
    .selectFrom("ai_jobs")
    .select(["due_at", "trigger_seq"])
    .where("conversation_id", "=", conversationId)
    .executeTakeFirstOrThrow();
  assert.equal(job.trigger_seq, 3);
  assert.ok(job.due_at >= before + 60_000 && job.due_at <= Date.now() + 60_000);
});

it("stores each platform message once when two processes race with the same retries", {
  skip,
}, async () => {
  const { channel, conversationId } = await knownConversation();
  // Ten messages, each delivered to both processes at once, 20 writes in flight.
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? store : other).messages.ingest(
        inbound(channel, { externalMessageId: `race-${i >> 1}`, content: `race ${i >> 1}` }),
      ),
    ),
  );
  assert.equal(results.filter((r) => r.duplicate).length, 10);
  for (let i = 0; i < 20; i += 2) {
    assert.equal(results[i]?.message.id, results[i + 1]?.message.id);
    assert.equal(results[i]?.message.content, `race ${i >> 1}`);
  }
  const page = await store.messages.recent(conversationId, 50);
  assert.deepEqual(
    page.messages.map((m) => m.seq),
    Array.from({ length: 11 }, (_, i) => i + 1),
  );
  assert.equal(new Set(page.messages.map((m) => m.content)).size, 11);
});
