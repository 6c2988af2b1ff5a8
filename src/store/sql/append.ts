import { sql } from "kysely";
import { newMessageId } from "../../domain/ids.js";
import type { ConversationStatus, MessageType } from "../../domain/types.js";
import { NotFoundError } from "../../errors.js";
import type { AppendResult, NewOutgoingMessage } from "../store.js";
import { attachmentsOf, insertAttachments } from "./attachment-rows.js";
import { lockConversation } from "./conversation-lock.js";
import { loadConversation } from "./conversation-query.js";
import { loadMessage, selectMessages, toMessages } from "./message-query.js";
import type { DialectName, Executor, SqlContext } from "./schema.js";
import {
  writtenConversation,
  writtenCustomer,
  writtenMessage,
  writtenSender,
} from "./written-rows.js";

// An outgoing message (support, AI, marketing), in one transaction with everything it implies.

/** Per the wire contract, a support or AI reply answers the customer; marketing does not. */
const ANSWERING_TYPES: ReadonlySet<MessageType> = new Set(["support", "AI"]);

function nextStatus(type: MessageType, status: ConversationStatus): ConversationStatus {
  return type === "support" && (status === "active" || status === "closed")
    ? "support_active"
    : status;
}

async function findByClientId(trx: Executor, message: NewOutgoingMessage) {
  if (message.clientId === null) return undefined;
  return trx
    .selectFrom("messages")
    .select("id")
    .where("conversation_id", "=", message.conversationId)
    .where("client_id", "=", message.clientId)
    .where((eb) =>
      message.senderId === null
        ? eb("sender_id", "is", null)
        : eb("sender_id", "=", message.senderId),
    )
    .executeTakeFirst();
}

/** Marks the customer messages before `seq` answered; returns their ids. */
async function markAnswered(trx: Executor, conversationId: string, seq: number, now: number) {
  const rows = await trx
    .updateTable("messages")
    .set({ is_answered: 1, updated_at: now })
    .where("conversation_id", "=", conversationId)
    // Literals, matching messages_unanswered_idx (unanswered-index.ts).
    .where("type", "=", sql.lit("customer"))
    .where("is_answered", "=", sql.lit(0))
    .where("seq", "<", seq)
    .returning("id")
    .execute();
  return rows.map((r) => r.id);
}

export async function append(ctx: SqlContext, message: NewOutgoingMessage): Promise<AppendResult> {
  return ctx.db.transaction().execute((trx) => appendWithin(trx, ctx.dialect, message));
}

/** `append` inside a transaction the caller holds (an automatic answer's completion). */
export async function appendWithin(
  trx: Executor,
  dialect: DialectName,
  message: NewOutgoingMessage,
): Promise<AppendResult> {
  const locked = await lockConversation(trx, dialect, message.conversationId);
  if (locked === undefined) throw new NotFoundError("Conversation not found");

  const existing = await findByClientId(trx, message);
  if (existing !== undefined) {
    // A client retry: checked under the lock and before taking a seq, so nothing changes.
    return {
      duplicate: true,
      message: await loadMessage(trx, existing.id),
      conversation: await loadConversation(trx, locked.id),
      answered: [],
    };
  }

  const now = Date.now();
  const updated = await trx
    .updateTable("conversations")
    .set((eb) => ({
      last_seq: eb("last_seq", "+", 1),
      updated_at: now,
      status: nextStatus(message.type, locked.status),
    }))
    .where("id", "=", locked.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const seq = updated.last_seq;

  // Without a channel there is nowhere to deliver: the message is final as stored.
  const deliverVia = message.deliver ? locked.channel_id : null;
  const messageId = newMessageId();
  const row = {
    id: messageId,
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
    updated_at: now,
  } as const;
  await trx.insertInto("messages").values(row).execute();
  const attachmentIds = await insertAttachments(
    trx,
    messageId,
    (message.attachments ?? []).map(({ id, ...fields }) => ({
      id,
      fields,
      state: "stored",
      ref: null,
    })),
    now,
  );
  if (deliverVia !== null) {
    await trx
      .insertInto("outbox")
      .values({
        message_id: messageId,
        channel_id: deliverVia,
        next_attempt_at: now,
        created_at: now,
        caption: message.caption ?? null,
      })
      .execute();
  }

  const answeredIds = ANSWERING_TYPES.has(message.type)
    ? await markAnswered(trx, locked.id, seq, now)
    : [];
  const answered =
    answeredIds.length === 0
      ? []
      : await toMessages(
          trx,
          await selectMessages(trx).where("m.id", "in", answeredIds).orderBy("m.seq").execute(),
        );

  // An agent's reply ends the turn: a pending automatic answer would come after it.
  if (message.type === "support") {
    await trx.deleteFrom("ai_jobs").where("conversation_id", "=", locked.id).execute();
  }

  // Built from what was written: two key lookups instead of re-reading through joins.
  const customer = await writtenCustomer(trx, dialect, updated.customer_id);
  const sender = await writtenSender(trx, dialect, message.type, message.senderId);
  // Uploaded files are written here with their final fields; only a message with files reads
  // its attachment rows back.
  const attachments =
    attachmentIds.length === 0
      ? []
      : ((await attachmentsOf(trx, [messageId])).get(messageId) ?? []);
  const stored = writtenMessage(row, customer, sender, attachments);
  return {
    duplicate: false,
    message: stored,
    conversation: writtenConversation(updated, customer, stored),
    answered,
  };
}
