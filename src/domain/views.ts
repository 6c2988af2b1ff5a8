import type {
  AttachmentView,
  ConversationPage as ConversationPageView,
  ConversationView,
  CustomerView,
  MessageView,
  UserView,
} from "../../client/wire.js";
import type {
  Attachment,
  Conversation,
  ConversationPage,
  Customer,
  Message,
  User,
} from "./types.js";

// Domain records to the wire shapes of protocol.md section 3 (the types live in the client's
// wire module, shared with every client): snake_case, ISO 8601 UTC times with milliseconds.

export type { AttachmentView, ConversationView, CustomerView, MessageView, UserView };

/** The path of an attachment's bytes; the bearer token of the owner opens it. */
export const attachmentPath = (id: string): string => `/api/attachments/${id}/`;

// Links are signed as each view is made, so every frame and answer carries a fresh one. The
// views are plain functions that every frame and REST answer goes through; the signing key is
// the server's, installed once at start (`server.ts`), before any view is made.
let attachmentLink: (id: string) => string = attachmentPath;

/** Installs the signer of attachment links (`files/attachment-links.ts`). */
export function useAttachmentLinks(sign: (id: string) => string): void {
  attachmentLink = sign;
}

/** Section 7b: every field present, `null` where it does not apply; no link without bytes. */
export const attachmentView = (a: Attachment): AttachmentView => ({
  id: a.id,
  kind: a.kind,
  mime_type: a.mimeType,
  file_name: a.fileName,
  size: a.size,
  width: a.width,
  height: a.height,
  duration: a.duration,
  url: a.state === "stored" || a.state === "pending" ? attachmentLink(a.id) : null,
  latitude: a.latitude,
  longitude: a.longitude,
  title: a.title,
  address: a.address,
  phone_number: a.phoneNumber,
  first_name: a.firstName,
  last_name: a.lastName,
});

export const isoTime = (ms: number): string => new Date(ms).toISOString();

export const customerView = (c: Customer): CustomerView => ({
  id: c.id,
  first_name: c.firstName,
  last_name: c.lastName,
  username: c.username,
  source: c.source,
  profile_picture: c.profilePicture,
});

export function messageView(m: Message): MessageView {
  const view: MessageView = {
    id: m.id,
    conversation_id: m.conversationId,
    seq: m.seq,
    content: m.content,
    type: m.type,
    customer: customerView(m.customer),
    sender: m.sender ? { id: m.sender.id, username: m.sender.username } : null,
    is_ai_response: m.isAiResponse,
    is_answered: m.isAnswered,
    delivery_status: m.deliveryStatus,
    client_id: m.clientId,
    attachments: m.attachments.map(attachmentView),
    created_at: isoTime(m.createdAt),
  };
  // Present only on failed deliveries, as the contract describes it.
  if (m.deliveryError !== null) view.delivery_error = m.deliveryError;
  return view;
}

export const conversationView = (c: Conversation): ConversationView => ({
  id: c.id,
  title: c.title,
  status: c.status,
  source: c.source,
  customer: customerView(c.customer),
  priority: c.priority,
  created_at: isoTime(c.createdAt),
  updated_at: isoTime(c.updatedAt),
  last_message: c.lastMessage
    ? {
        id: c.lastMessage.id,
        content: c.lastMessage.content,
        type: c.lastMessage.type,
        created_at: isoTime(c.lastMessage.createdAt),
      }
    : null,
  unread_count: c.unreadCount,
});

export const userView = (u: User): UserView => ({
  id: u.id,
  username: u.username,
  first_name: u.firstName,
  last_name: u.lastName,
});

export const conversationPageView = (page: ConversationPage): ConversationPageView => ({
  conversations: page.conversations.map(conversationView),
  has_more: page.hasMore,
  next_cursor: page.nextCursor,
});
