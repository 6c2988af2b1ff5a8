import type { Insertable, Selectable } from "kysely";
import type {
  Attachment,
  Conversation,
  Customer,
  Message,
  MessageSender,
} from "../../domain/types.js";
import type { InboundMessage } from "../store.js";
import type { ConversationsTable, MessagesTable } from "./schema.js";

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
 * A customer message's row, the seq taken from its conversation's updated row. Its time is when
 * the customer sent it (`sentAt`, else the store's `now`).
 */
export function inboundMessageRow(
  id: string,
  conversation: Pick<Selectable<ConversationsTable>, "id" | "last_seq">,
  inbound: InboundMessage,
  now: number,
) {
  return {
    id,
    conversation_id: conversation.id,
    seq: conversation.last_seq,
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
}

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
