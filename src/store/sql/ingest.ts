import { newConversationId, newMessageId } from "../../domain/ids.js";
import type { AnswerScheduling, InboundMessage, IngestResult } from "../store.js";
import { attachmentsOf, insertAttachments } from "./attachment-rows.js";
import { lockConversation } from "./conversation-lock.js";
import { loadConversation } from "./conversation-query.js";
import { conversationTitle, toCustomer } from "./mappers.js";
import { loadMessage } from "./message-query.js";
import type { Executor, SqlContext } from "./schema.js";
import { writtenConversation, writtenMessage } from "./written-rows.js";

// A customer message from a platform, in one transaction. Times: the message's created_at is
// when the customer sent it (`sentAt`, else now); the conversation's updated_at is always the
// store's clock, so that a late-delivered old message still brings its conversation to the top
// of the list and updated_at never moves backwards.

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

/** Inserts the customer unless present; `created` only for the call whose insert won. */
async function upsertCustomer(trx: Executor, inbound: InboundMessage, now: number) {
  // Most messages come from known customers: one read settles those.
  const known = await selectCustomer(trx, inbound);
  if (known !== undefined) return { customer: toCustomer(known), created: false };
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

/** The owner's automatic-answer settings, when answers are available at all. */
async function answerSettings(
  trx: Executor,
  ownerId: number,
  answers: AnswerScheduling | undefined,
) {
  if (answers === undefined) return undefined;
  const row = await trx
    .selectFrom("ai_settings")
    .select(["enabled", "new_conversation_status"])
    .where("user_id", "=", ownerId)
    .executeTakeFirst();
  return row !== undefined && row.enabled === 1 ? row : undefined;
}

export async function ingest(
  ctx: SqlContext,
  inbound: InboundMessage,
  answers?: AnswerScheduling,
): Promise<IngestResult> {
  return ctx.db.transaction().execute(async (trx) => {
    const now = Date.now();
    const { customer, created } = await upsertCustomer(trx, inbound, now);
    const settings = await answerSettings(trx, inbound.ownerId, answers);

    // Read first: the conversation exists for all but a customer's first message.
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
          status: settings?.new_conversation_status ?? "support_active",
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(["channel_id", "customer_id"]).doNothing())
        .execute()
        .then(() => selectConversationId(trx, inbound.channelId, customer.id)));
    if (found === undefined) throw new Error("Conversation vanished");
    const conversationId = found.id;
    const locked = await lockConversation(trx, ctx.dialect, conversationId);
    if (locked === undefined) throw new Error(`Conversation ${conversationId} vanished`);

    const existing = await trx
      .selectFrom("messages")
      .select("id")
      .where("conversation_id", "=", conversationId)
      .where("external_id", "=", inbound.externalMessageId)
      .executeTakeFirst();
    if (existing !== undefined) {
      // Checked under the lock and before taking a seq: a platform retry changes nothing.
      return {
        duplicate: true,
        message: await loadMessage(trx, existing.id),
        conversation: await loadConversation(trx, conversationId),
        customerCreated: created,
        answerScheduled: false,
      };
    }

    const status = locked.status === "closed" ? "support_active" : locked.status;
    const updated = await trx
      .updateTable("conversations")
      .set((eb) => ({
        last_seq: eb("last_seq", "+", 1),
        unread_count: eb("unread_count", "+", 1),
        updated_at: now,
        // A new customer message reopens a closed conversation for the agents.
        status,
      }))
      .where("id", "=", conversationId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const seq = updated.last_seq;

    const row = {
      id: newMessageId(),
      conversation_id: conversationId,
      seq,
      type: "customer",
      content: inbound.content,
      sender_id: null,
      is_ai_response: 0,
      is_answered: 0,
      delivery_status: "received",
      external_id: inbound.externalMessageId,
      created_at: inbound.sentAt ?? now,
      updated_at: now,
    } as const;
    await trx.insertInto("messages").values(row).execute();
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
  });
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
