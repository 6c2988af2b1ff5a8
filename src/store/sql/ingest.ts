import { newConversationId, newMessageId } from "../../domain/ids.js";
import type { ConversationStatus, Customer, Platform } from "../../domain/types.js";
import type { AnswerScheduling, InboundMessage, IngestResult } from "../store.js";
import { attachmentsOf, insertAttachments } from "./attachment-rows.js";
import { lockConversation } from "./conversation-lock.js";
import { loadConversation } from "./conversation-query.js";
import { settle } from "./group-commit.js";
import { conversationTitle, toCustomer } from "./mappers.js";
import { loadMessage } from "./message-query.js";
import { ingestKnownConversations } from "./postgres-ingest.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { DialectName, Executor, SqlContext } from "./schema.js";
import { inboundMessageRow, writtenConversation, writtenMessage } from "./written-rows.js";

// A customer message from a platform, in one transaction, alone or with others that arrived
// meanwhile (group commit, see messages.ts). Times: the message's created_at is when the
// customer sent it (`sentAt`, else now); the conversation's updated_at is always the store's
// clock, so that a late-delivered old message still brings its conversation to the top of the
// list and updated_at never moves backwards.
//
// The common case (a known customer writing into an existing conversation) runs four
// statements on SQLite, each compiled once: the customer with its conversation, the
// conversation lock and the duplicate check, the new seq, the message. PostgreSQL runs the
// same steps in one call of a function (postgres-ingest.ts); the general path below serves it
// for the rest (first messages, media).

const knownCustomer = new PreparedQuery((db) =>
  db
    .selectFrom("customers as cu")
    .leftJoin("conversations as c", (join) =>
      join.onRef("c.customer_id", "=", "cu.id").on("c.channel_id", "=", arg<string>(3)),
    )
    .selectAll("cu")
    .select("c.id as conversation_id")
    .where("cu.owner_id", "=", arg<number>(0))
    .where("cu.source", "=", arg<Platform>(1))
    .where("cu.external_id", "=", arg<string>(2)),
);

const selectCustomer = (trx: Executor, inbound: InboundMessage) =>
  trx
    .selectFrom("customers")
    .selectAll()
    .where("owner_id", "=", inbound.ownerId)
    .where("source", "=", inbound.source)
    .where("external_id", "=", inbound.customerExternalId)
    .executeTakeFirst();

const selectConversationId = (trx: Executor, channelId: string, customerId: number) =>
  trx
    .selectFrom("conversations")
    .select("id")
    .where("channel_id", "=", channelId)
    .where("customer_id", "=", customerId)
    .executeTakeFirst();

// SQLite: the transaction holds the single write lock already (BEGIN IMMEDIATE), so the
// conversation and its duplicate check are one read.
const conversationWithDuplicate = new PreparedQuery((db) =>
  db
    .selectFrom("conversations as c")
    .select(["c.id", "c.status"])
    .select((eb) =>
      eb
        .selectFrom("messages as m")
        .select("m.id")
        .whereRef("m.conversation_id", "=", "c.id")
        .where("m.external_id", "=", arg<string>(1))
        .as("existing_id"),
    )
    .where("c.id", "=", arg<string>(0)),
);

const messageByExternalId = new PreparedQuery((db) =>
  db
    .selectFrom("messages")
    .select("id")
    .where("conversation_id", "=", arg<string>(0))
    .where("external_id", "=", arg<string>(1)),
);

/**
 * Locks the conversation, then looks for the platform message among its stored ones: a retry
 * is found under the lock, before a seq is taken. Undefined when the conversation is gone.
 */
async function lockAndFindDuplicate(
  trx: Executor,
  dialect: DialectName,
  conversationId: string,
  externalId: string,
): Promise<{ status: ConversationStatus; existingId: string | null } | undefined> {
  if (dialect === "sqlite") {
    const row = await conversationWithDuplicate.executeTakeFirst(
      trx,
      dialect,
      conversationId,
      externalId,
    );
    return row && { status: row.status, existingId: row.existing_id };
  }
  // PostgreSQL: the row lock waits for a concurrent writer of this conversation, and only a
  // statement started after the wait sees that writer's message (read committed): the
  // duplicate check cannot share the locking statement.
  const locked = await lockConversation(trx, dialect, conversationId);
  if (locked === undefined) return undefined;
  const existing = await messageByExternalId.executeTakeFirst(
    trx,
    dialect,
    conversationId,
    externalId,
  );
  return { status: locked.status, existingId: existing?.id ?? null };
}

const takeSeq = new PreparedQuery((db) =>
  db
    .updateTable("conversations")
    .set((eb) => ({
      last_seq: eb("last_seq", "+", 1),
      unread_count: eb("unread_count", "+", 1),
      updated_at: arg<number>(1),
      status: arg<ConversationStatus>(2),
    }))
    .where("id", "=", arg<string>(0))
    .returningAll(),
);

const insertMessage = new PreparedQuery((db) =>
  db.insertInto("messages").values({
    id: arg<string>(0),
    conversation_id: arg<string>(1),
    seq: arg<number>(2),
    type: "customer",
    content: arg<string>(3),
    sender_id: null,
    is_ai_response: 0,
    is_answered: 0,
    delivery_status: "received",
    external_id: arg<string>(4),
    created_at: arg<number>(5),
    updated_at: arg<number>(6),
  }),
);

const aiSettings = new PreparedQuery((db) =>
  db
    .selectFrom("ai_settings")
    .select(["enabled", "new_conversation_status"])
    .where("user_id", "=", arg<number>(0)),
);

/** A customer's first message: inserts the customer unless a concurrent first message did. */
async function insertCustomer(trx: Executor, inbound: InboundMessage, now: number) {
  // ON CONFLICT DO NOTHING, then read: concurrent first messages wait on the unique index and
  // then see the winner's row. Existing customers keep their stored profile.
  const inserted = await trx
    .insertInto("customers")
    .values({
      owner_id: inbound.ownerId,
      source: inbound.source,
      external_id: inbound.customerExternalId,
      first_name: inbound.firstName,
      last_name: inbound.lastName,
      username: inbound.username,
      profile_picture: null,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(["owner_id", "source", "external_id"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  const row = await selectCustomer(trx, inbound);
  if (row === undefined) throw new Error("Customer vanished");
  return { customer: toCustomer(row), created: inserted !== undefined };
}

/** The conversation of a customer's first message in this channel (or of a concurrent one). */
async function createConversation(
  trx: Executor,
  inbound: InboundMessage,
  customer: Customer,
  status: ConversationStatus,
  now: number,
): Promise<string> {
  const found =
    (await selectConversationId(trx, inbound.channelId, customer.id)) ??
    (await trx
      .insertInto("conversations")
      .values({
        id: newConversationId(),
        owner_id: inbound.ownerId,
        channel_id: inbound.channelId,
        customer_id: customer.id,
        source: inbound.source,
        title: conversationTitle(customer),
        status,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(["channel_id", "customer_id"]).doNothing())
      .execute()
      .then(() => selectConversationId(trx, inbound.channelId, customer.id)));
  if (found === undefined) throw new Error("Conversation vanished");
  return found.id;
}

/** The owner's automatic-answer settings, when answers are available at all. */
async function answerSettings(
  trx: Executor,
  dialect: DialectName,
  ownerId: number,
  answers: AnswerScheduling | undefined,
) {
  if (answers === undefined) return undefined;
  const row = await aiSettings.executeTakeFirst(trx, dialect, ownerId);
  return row !== undefined && row.enabled === 1 ? row : undefined;
}

export interface IngestRequest {
  inbound: InboundMessage;
  answers: AnswerScheduling | undefined;
}

/** One message, stored by PostgreSQL's function when it can (see ingestBatch). */
export async function ingest(ctx: SqlContext, request: IngestRequest): Promise<IngestResult> {
  if (ctx.dialect === "postgres") {
    const [known] = await ingestKnownConversations(ctx, [request]);
    if (known?.status === "fulfilled") return known.value;
    if (known?.status === "rejected") throw known.reason;
  }
  return ingestAlone(ctx, request);
}

/** One message in a transaction of its own, through the general path. */
function ingestAlone(ctx: SqlContext, request: IngestRequest): Promise<IngestResult> {
  return ctx.db.transaction().execute((trx) => ingestIn(trx, ctx.dialect, request));
}

/**
 * Several messages; outcomes in the order of `requests`. They are stored in the order of their
 * conversation's key (channel, customer), arrival order within each: every batch then takes its
 * conversation locks in the same order, so that concurrent batches on PostgreSQL (in this
 * process or another) wait for each other instead of deadlocking.
 *
 * SQLite: one transaction, all or none. PostgreSQL: one call of `fiko_ingest_known` stores the
 * messages of known conversations; the rest (first messages, media) follow one by one through
 * the general path, each in its own transaction, so that one failing fails alone. Throws only
 * when nothing was stored.
 */
export async function ingestBatch(
  ctx: SqlContext,
  requests: IngestRequest[],
): Promise<PromiseSettledResult<IngestResult>[]> {
  const key = ({ inbound }: IngestRequest) =>
    `${inbound.channelId}\u0000${inbound.customerExternalId}`;
  const order = requests
    .map((request, index) => ({ index, request, key: key(request) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index));
  if (ctx.dialect === "sqlite") {
    const results = await ctx.db.transaction().execute(async (trx) => {
      const stored: IngestResult[] = new Array(requests.length);
      for (const { index, request } of order) {
        stored[index] = await ingestIn(trx, ctx.dialect, request);
      }
      return stored;
    });
    return results.map((value) => ({ status: "fulfilled", value }));
  }
  const known = await ingestKnownConversations(
    ctx,
    order.map(({ request }) => request),
  );
  const outcomes: PromiseSettledResult<IngestResult>[] = new Array(requests.length);
  for (const [position, { index, request }] of order.entries()) {
    outcomes[index] = known[position] ?? (await settle(ingestAlone(ctx, request)));
  }
  return outcomes;
}

async function ingestIn(
  trx: Executor,
  dialect: DialectName,
  { inbound, answers }: IngestRequest,
): Promise<IngestResult> {
  const now = Date.now();
  // Known customers (all but a first message) and their conversation in one read.
  const known = await knownCustomer.executeTakeFirst(
    trx,
    dialect,
    inbound.ownerId,
    inbound.source,
    inbound.customerExternalId,
    inbound.channelId,
  );
  const { customer, created } =
    known !== undefined
      ? { customer: toCustomer(known), created: false }
      : await insertCustomer(trx, inbound, now);
  const settings = await answerSettings(trx, dialect, inbound.ownerId, answers);
  const conversationId =
    known?.conversation_id ??
    (await createConversation(
      trx,
      inbound,
      customer,
      settings?.new_conversation_status ?? "support_active",
      now,
    ));
  const locked = await lockAndFindDuplicate(
    trx,
    dialect,
    conversationId,
    inbound.externalMessageId,
  );
  if (locked === undefined) throw new Error(`Conversation ${conversationId} vanished`);

  if (locked.existingId !== null) {
    // Checked under the lock and before taking a seq: a platform retry changes nothing.
    return {
      duplicate: true,
      message: await loadMessage(trx, locked.existingId),
      conversation: await loadConversation(trx, conversationId),
      customerCreated: created,
      answerScheduled: false,
    };
  }

  // A new customer message reopens a closed conversation for the agents.
  const status = locked.status === "closed" ? "support_active" : locked.status;
  const updated = await takeSeq.executeTakeFirst(trx, dialect, conversationId, now, status);
  if (updated === undefined) throw new Error(`Conversation ${conversationId} vanished`);
  const seq = updated.last_seq;
  const row = inboundMessageRow(newMessageId(), updated, inbound, now);
  await insertMessage.execute(
    trx,
    dialect,
    row.id,
    conversationId,
    seq,
    row.content,
    row.external_id,
    row.created_at,
    row.updated_at,
  );
  // Media rows get ids and states as they are written; a text message (the common case)
  // reads nothing back.
  const attachments = (await insertInboundAttachments(trx, inbound, row.id, now))
    ? ((await attachmentsOf(trx, [row.id])).get(row.id) ?? [])
    : [];

  // One pending answer per conversation: a message inside the quiet window, or while the
  // model is being asked, moves the same job on instead of adding a second one.
  const answerScheduled = answers !== undefined && settings !== undefined && status === "active";
  if (answerScheduled) {
    const dueAt = now + answers.replyDelayMs;
    await trx
      .insertInto("ai_jobs")
      .values({
        conversation_id: conversationId,
        due_at: dueAt,
        trigger_seq: seq,
        created_at: now,
      })
      .onConflict((oc) =>
        oc.column("conversation_id").doUpdateSet({ due_at: dueAt, trigger_seq: seq }),
      )
      .execute();
  }

  const message = writtenMessage(row, customer, null, attachments);
  return {
    duplicate: false,
    message,
    conversation: writtenConversation(updated, customer, message),
    customerCreated: created,
    answerScheduled,
  };
}

/**
 * The message's media, each file with a download job due now: the bytes are fetched in the
 * background (never inside the webhook request) and the message is not held back for them.
 */
async function insertInboundAttachments(
  trx: Executor,
  inbound: InboundMessage,
  messageId: string,
  now: number,
): Promise<boolean> {
  const items = inbound.attachments ?? [];
  if (items.length === 0) return false;
  const ids = await insertAttachments(
    trx,
    messageId,
    items.map(({ ref, ...fields }) => ({
      fields,
      ref,
      state: ref === null ? "none" : "pending",
    })),
    now,
  );
  const jobs = ids
    .filter((_id, index) => items[index]?.ref != null)
    .map((attachmentId) => ({
      attachment_id: attachmentId,
      channel_id: inbound.channelId,
      next_attempt_at: now,
      created_at: now,
    }));
  if (jobs.length > 0) await trx.insertInto("media_jobs").values(jobs).execute();
  return true;
}
