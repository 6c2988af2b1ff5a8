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

const DAY_MS = 86_400_000;
/** 10000-01-01: from there on toISOString writes a six-digit year with its sign. */
const YEAR_10000_MS = 253_402_300_800_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, "0"));

// The date part of the day last formatted: a page's messages are mostly of one day.
let formattedDay = Number.NaN;
let formattedDate = "";

/**
 * `new Date(ms).toISOString()`, the time of day written by arithmetic: toISOString cost about
 * 0.8 us a call, 40 us for the 50 messages of a snapshot. The date part still comes from
 * Date, once per day; times outside 1970-9999 or not whole milliseconds are Date's alone.
 */
export function isoTime(ms: number): string {
  if (!(Number.isInteger(ms) && ms >= 0 && ms < YEAR_10000_MS)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== formattedDay) {
    formattedDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
    formattedDay = day;
  }
  let rest = ms - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${formattedDate}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}

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
