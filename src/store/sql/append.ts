import { sql } from "kysely";
import { newMessageId } from "../../domain/ids.js";
import type { ConversationStatus, Customer, MessageType } from "../../domain/types.js";
import { NotFoundError } from "../../errors.js";
import type { AppendResult, NewOutgoingMessage, OutboxJob } from "../store.js";
import { attachmentsOf, insertAttachments } from "./attachment-rows.js";
import { loadConversation } from "./conversation-query.js";
import { JOINED_CUSTOMER_COLUMNS, joinedCustomer } from "./mappers.js";
import { loadMessage } from "./message-query.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { QueuedOutbox } from "./queued-outbox.js";
import type { DialectName, Executor, SqlContext } from "./schema.js";
import { writtenConversation, writtenMessage } from "./written-rows.js";

// An outgoing message (support, AI, marketing), in one transaction with everything it implies.
// An agent sends many in a row, so every statement of the common path is compiled once.

/** Per the wire contract, a support or AI reply answers the customer; marketing does not. */
const ANSWERING_TYPES: ReadonlySet<MessageType> = new Set(["support", "AI"]);

function nextStatus(type: MessageType, status: ConversationStatus): ConversationStatus {
  return type === "support" && (status === "active" || status === "closed")
    ? "support_active"
    : status;
}

// Every write that takes a seq first locks its conversation row (see conversation-lock.ts).
// This lock also reads what the stored message shows: its customer and its author's username
// (arg 0, null for none), so the message is built without reading anything back.
const lockWithCustomer = (trx: Executor) =>
  trx
    .selectFrom("conversations as c")
    .innerJoin("customers as cu", "cu.id", "c.customer_id")
    .leftJoin("users as u", (join) => join.on("u.id", "=", arg<number | null>(0)))
    .select([
      "c.id",
      "c.owner_id",
      "c.channel_id",
      "c.status",
      ...JOINED_CUSTOMER_COLUMNS,
      "u.username as sender_username",
    ])
    .where("c.id", "=", arg<string>(1));
const lockPostgres = new PreparedQuery((trx) => lockWithCustomer(trx).forUpdate("c"));
const lockSqlite = new PreparedQuery(lockWithCustomer);

const byClientId = new PreparedQuery((trx) =>
  trx
    .selectFrom("messages")
    .select("id")
    .where("conversation_id", "=", arg<string>(0))
    .where("client_id", "=", arg<string>(1))
    .where("sender_id", "=", arg<number>(2)),
);
const byClientIdWithoutSender = new PreparedQuery((trx) =>
  trx
    .selectFrom("messages")
    .select("id")
    .where("conversation_id", "=", arg<string>(0))
    .where("client_id", "=", arg<string>(1))
    .where("sender_id", "is", null),
);

async function findByClientId(trx: Executor, dialect: DialectName, message: NewOutgoingMessage) {
  if (message.clientId === null) return undefined;
  return message.senderId === null
    ? byClientIdWithoutSender.executeTakeFirst(
        trx,
        dialect,
        message.conversationId,
        message.clientId,
      )
    : byClientId.executeTakeFirst(
        trx,
        dialect,
        message.conversationId,
        message.clientId,
        message.senderId,
      );
}

const takeSeq = new PreparedQuery((trx) =>
  trx
    .updateTable("conversations")
    .set((eb) => ({
      last_seq: eb("last_seq", "+", 1),
      updated_at: arg<number>(0),
      status: arg<ConversationStatus>(1),
    }))
    .where("id", "=", arg<string>(2))
    .returningAll(),
);

const insertMessage = new PreparedQuery((trx) =>
  trx.insertInto("messages").values({
    id: arg<string>(0),
    conversation_id: arg<string>(1),
    seq: arg<number>(2),
    type: arg<MessageType>(3),
    content: arg<string>(4),
    sender_id: arg<number | null>(5),
    is_ai_response: arg<number>(6),
    is_answered: 1,
    delivery_status: arg<"sent" | "pending">(7),
    client_id: arg<string | null>(8),
    created_at: arg<number>(9),
    updated_at: arg<number>(9),
  }),
);

const insertOutbox = new PreparedQuery((trx) =>
  trx
    .insertInto("outbox")
    .values({
      message_id: arg<string>(0),
      channel_id: arg<string>(1),
      next_attempt_at: arg<number>(2),
      created_at: arg<number>(2),
      caption: arg<string | null>(3),
    })
    .returning("id"),
);

/** Marks the customer messages before a seq answered and returns them as they now are. */
const markAnswered = new PreparedQuery((trx) =>
  trx
    .updateTable("messages")
    .set({ is_answered: 1, updated_at: arg<number>(0) })
    .where("conversation_id", "=", arg<string>(1))
    // Literals, matching messages_unanswered_idx (unanswered-index.ts).
    .where("type", "=", sql.lit("customer"))
    .where("is_answered", "=", sql.lit(0))
    .where("seq", "<", arg<number>(2))
    .returning([
      "id",
      "conversation_id",
      "seq",
      "content",
      "type",
      "is_ai_response",
      "is_answered",
      "delivery_status",
      "delivery_error",
      "client_id",
      "created_at",
    ]),
);

// An agent's reply ends the turn: a pending automatic answer would come after it.
const cancelAnswer = new PreparedQuery((trx) =>
  trx.deleteFrom("ai_jobs").where("conversation_id", "=", arg<string>(0)),
);

/** What `appendWithin` did: its result, and the send it queued (to note once committed). */
export interface Appended {
  result: AppendResult;
  queued: OutboxJob | undefined;
}

export async function append(
  ctx: SqlContext,
  message: NewOutgoingMessage,
  outbox: QueuedOutbox,
): Promise<AppendResult> {
  const { result, queued } = await ctx.db
    .transaction()
    .execute((trx) => appendWithin(trx, ctx.dialect, message));
  if (queued !== undefined) outbox.note(queued);
  return result;
}

/** `append` inside a transaction the caller holds (an automatic answer's completion). */
export async function appendWithin(
  trx: Executor,
  dialect: DialectName,
  message: NewOutgoingMessage,
): Promise<Appended> {
  const lock = dialect === "postgres" ? lockPostgres : lockSqlite;
  const locked = await lock.executeTakeFirst(
    trx,
    dialect,
    message.type === "support" ? message.senderId : null,
    message.conversationId,
  );
  // Another owner's conversation is as unknown as a missing one, and nothing was written yet.
  if (
    locked === undefined ||
    (message.ownerId !== undefined && locked.owner_id !== message.ownerId)
  ) {
    throw new NotFoundError("Conversation not found");
  }

  const existing = await findByClientId(trx, dialect, message);
  if (existing !== undefined) {
    // A client retry: checked under the lock and before taking a seq, so nothing changes.
    return {
      result: {
        duplicate: true,
        message: await loadMessage(trx, existing.id),
        conversation: await loadConversation(trx, locked.id),
        answered: [],
      },
      queued: undefined,
    };
  }

  const now = Date.now();
  const updated = await takeSeq.executeTakeFirst(
    trx,
    dialect,
    now,
    nextStatus(message.type, locked.status),
    locked.id,
  );
  if (updated === undefined) throw new Error(`Conversation ${locked.id} missing under its lock`);
  const seq = updated.last_seq;

  // Without a channel there is nowhere to deliver: the message is final as stored.
  const deliverVia = message.deliver ? locked.channel_id : null;
  const row = {
    id: newMessageId(),
    conversation_id: locked.id,
    seq,
    type: message.type,
    content: message.content,
    sender_id: message.senderId,
    is_ai_response: message.type === "AI" ? 1 : 0,
    is_answered: 1,
    delivery_status: deliverVia === null ? "sent" : "pending",
    client_id: message.clientId,
    created_at: now,
  } as const;
  await insertMessage.execute(
    trx,
    dialect,
    row.id,
    row.conversation_id,
    row.seq,
    row.type,
    row.content,
    row.sender_id,
    row.is_ai_response,
    row.delivery_status,
    row.client_id,
    row.created_at,
  );
  const attachmentIds = await insertAttachments(
    trx,
    row.id,
    (message.attachments ?? []).map(({ id, ...fields }) => ({
      id,
      fields,
      state: "stored",
      ref: null,
    })),
    now,
  );
  const caption = message.caption ?? null;
  const outboxRow =
    deliverVia === null
      ? undefined
      : await insertOutbox.executeTakeFirst(trx, dialect, row.id, deliverVia, now, caption);

  const customer = joinedCustomer(locked);
  const answered = ANSWERING_TYPES.has(message.type)
    ? await answeredMessages(trx, dialect, locked.id, seq, now, customer)
    : [];
  if (message.type === "support") await cancelAnswer.execute(trx, dialect, locked.id);

  const sender =
    message.senderId === null || locked.sender_username === null
      ? null
      : { id: message.senderId, username: locked.sender_username };
  // Uploaded files are written here with their final fields; only a message with files reads
  // its attachment rows back.
  const attachments =
    attachmentIds.length === 0 ? [] : ((await attachmentsOf(trx, [row.id])).get(row.id) ?? []);
  const stored = writtenMessage(row, customer, sender, attachments);
  return {
    result: {
      duplicate: false,
      message: stored,
      conversation: writtenConversation(updated, customer, stored),
      answered,
    },
    queued:
      outboxRow === undefined || deliverVia === null
        ? undefined
        : {
            id: outboxRow.id,
            messageId: row.id,
            channelId: deliverVia,
            recipientExternalId: customer.externalId,
            content: row.content,
            attempts: 0,
            attachments,
            caption,
            step: 0,
          },
  };
}

/** The customer messages this reply answers, in seq order, built from what the update returned. */
async function answeredMessages(
  trx: Executor,
  dialect: DialectName,
  conversationId: string,
  seq: number,
  now: number,
  customer: Customer,
) {
  const rows = await markAnswered.execute(trx, dialect, now, conversationId, seq);
  if (rows.length === 0) return [];
  rows.sort((a, b) => a.seq - b.seq);
  const attachments = await attachmentsOf(
    trx,
    rows.map((r) => r.id),
  );
  return rows.map((r) => writtenMessage(r, customer, null, attachments.get(r.id) ?? []));
}
