import type { Insertable, Selectable } from "kysely";
import type {
  Attachment,
  Conversation,
  Customer,
  Message,
  MessageSender,
  MessageType,
} from "../../domain/types.js";
import { toCustomer } from "./mappers.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { ConversationsTable, DialectName, Executor, MessagesTable } from "./schema.js";

// Results of writes, built from the values just written instead of read back: a write already
// holds every column of its message and (through RETURNING) of its conversation, and reading
// them again cost two or three joined queries per stored message.

/** The columns a message is built from: as inserted, or as read back. */
type MessageColumns = Pick<
  Insertable<MessagesTable>,
  | "id"
  | "conversation_id"
  | "seq"
  | "content"
  | "type"
  | "is_ai_response"
  | "is_answered"
  | "delivery_status"
  | "delivery_error"
  | "client_id"
  | "created_at"
>;

/**
 * The message from its columns; `sender` is shown for support messages only (AI and marketing
 * messages have no author to show).
 */
export function writtenMessage(
  row: MessageColumns,
  customer: Customer,
  sender: MessageSender | null,
  attachments: Attachment[],
): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: row.seq,
    content: row.content,
    type: row.type,
    customer,
    sender: row.type === "support" ? sender : null,
    isAiResponse: row.is_ai_response === 1,
    isAnswered: row.is_answered === 1,
    deliveryStatus: row.delivery_status,
    deliveryError: row.delivery_error ?? null,
    clientId: row.client_id ?? null,
    attachments,
    createdAt: row.created_at,
  };
}

/** The conversation row as RETURNING gave it, whose newest message is `last`. */
export function writtenConversation(
  row: Selectable<ConversationsTable>,
  customer: Customer,
  last: Message,
): Conversation {
  return {
    id: row.id,
    ownerId: row.owner_id,
    channelId: row.channel_id,
    title: row.title,
    status: row.status,
    source: row.source,
    customer,
    priority: row.priority,
    lastSeq: row.last_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastMessage: {
      id: last.id,
      content: last.content,
      type: last.type,
      createdAt: last.createdAt,
    },
    unreadCount: row.unread_count,
  };
}

// What a written row refers to, read by primary key with queries compiled once.
const customerById = new PreparedQuery((db) =>
  db.selectFrom("customers").selectAll().where("id", "=", arg<number>(0)),
);
const usernameById = new PreparedQuery((db) =>
  db.selectFrom("users").select("username").where("id", "=", arg<number>(0)),
);

/** The customer of a conversation row the transaction just wrote. */
export async function writtenCustomer(
  trx: Executor,
  dialect: DialectName,
  customerId: number,
): Promise<Customer> {
  const row = await customerById.executeTakeFirst(trx, dialect, customerId);
  if (row === undefined) throw new Error(`Customer ${customerId} missing`);
  return toCustomer(row);
}

/** The author a support message shows; null for other types, as the wire wants. */
export async function writtenSender(
  trx: Executor,
  dialect: DialectName,
  type: MessageType,
  senderId: number | null,
): Promise<MessageSender | null> {
  if (type !== "support" || senderId === null) return null;
  const row = await usernameById.executeTakeFirst(trx, dialect, senderId);
  return row === undefined ? null : { id: senderId, username: row.username };
}
