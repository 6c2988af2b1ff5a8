// The one wire vocabulary of protocol.md sections 2 to 8: every object and frame exactly as it
// travels, snake_case. The server's views, frames and frame schemas are typed against this
// module, and the SDK and the inbox read it, so a renamed field breaks the build, not a client.
// Plain types and constant arrays only: no imports, safe for Node and the browser alike.

/** Message kinds (section 3). */
export const MESSAGE_TYPES = ["customer", "support", "AI", "marketing"] as const;
/** Who wrote a message: the customer, an agent, an automatic answer, or a campaign. */
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Conversation statuses (section 3). */
export const CONVERSATION_STATUSES = [
  "active",
  "support_active",
  "marketing_active",
  "closed",
] as const;
/** `active`: automatic answers on; `support_active`: a human handles it; and so on. */
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** Delivery states of a message (section 3). */
export const DELIVERY_STATUSES = ["received", "pending", "sent", "failed"] as const;
/** `received` for customer messages; `pending` → `sent` | `failed` for outgoing ones. */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Messaging platforms a channel connects to (section 7). */
export const PLATFORMS = ["telegram", "instagram"] as const;
/** A messaging platform. */
export type Platform = (typeof PLATFORMS)[number];

/** Media kinds of an attachment (section 7b). */
export const ATTACHMENT_KINDS = [
  "photo",
  "video",
  "animation",
  "audio",
  "voice",
  "video_note",
  "document",
  "sticker",
  "location",
  "contact",
] as const;
/** The kind of an attachment. */
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number];

/** ISO 8601 UTC time with milliseconds and `Z`, e.g. `2024-01-15T10:30:00.000Z`. */
export type IsoTime = string;

// ---------------------------------------------------------------------------------------------
// Objects (sections 2, 3, 7, 7b, 8)

/** An account (section 2): the answer of register and `GET /api/auth/me/`. */
export interface UserView {
  id: number;
  username: string;
  first_name: string;
  last_name: string;
}

/** `POST /api/auth/token/` answer. */
export interface TokenPair {
  access: string;
  refresh: string;
}

/** `POST /api/auth/token/refresh/` answer. */
export interface AccessToken {
  access: string;
}

/** A customer as embedded in messages and conversations. */
export interface CustomerView {
  id: number;
  first_name: string;
  last_name: string;
  username: string | null;
  source: Platform;
  profile_picture: string | null;
}

/** The agent who wrote a support message. */
export interface SenderView {
  id: number;
  username: string;
}

/**
 * A media item of a message (section 7b). Every field is always present; those that do not
 * apply to the kind are `null` (a photo's `latitude`, a contact's `size`).
 */
export interface AttachmentView {
  id: string;
  kind: AttachmentKind;
  /** Sniffed from the stored bytes once they are fetched; the platform's word until then. */
  mime_type: string | null;
  file_name: string | null;
  /** Bytes. */
  size: number | null;
  width: number | null;
  height: number | null;
  /** Seconds. */
  duration: number | null;
  /**
   * A signed path on the server (put the base URL in front), valid at least an hour. `null` for
   * location and contact, and for a file the platform refused (too big for the Bot API, a
   * link that expired before it could be fetched).
   */
  url: string | null;
  latitude: number | null;
  longitude: number | null;
  /** A venue's name (kind `location`). */
  title: string | null;
  address: string | null;
  phone_number: string | null;
  first_name: string | null;
  last_name: string | null;
}

/** A stored message (section 3). */
export interface MessageView {
  id: string;
  conversation_id: string;
  /** 1, 2, 3, ... per conversation, without gaps. */
  seq: number;
  content: string;
  type: MessageType;
  customer: CustomerView;
  /** The agent of a support message; `null` otherwise. */
  sender: SenderView | null;
  is_ai_response: boolean;
  is_answered: boolean;
  delivery_status: DeliveryStatus;
  /** Present only when `delivery_status` is `failed`: a short reason. */
  delivery_error?: string;
  /** Echo of the sender's `client_id`, for matching optimistic messages. */
  client_id: string | null;
  /** Media (section 7b); `[]` when none. */
  attachments: AttachmentView[];
  created_at: IsoTime;
}

/** The summary of a conversation's newest message. */
export interface LastMessageView {
  id: string;
  content: string;
  type: MessageType;
  created_at: IsoTime;
}

/** A conversation (section 3). */
export interface ConversationView {
  id: string;
  title: string;
  status: ConversationStatus;
  source: Platform;
  customer: CustomerView;
  priority: number;
  created_at: IsoTime;
  updated_at: IsoTime;
  last_message: LastMessageView | null;
  unread_count: number;
}

/** A page of conversations: `conversations_list` and `GET /api/conversations/`. */
export interface ConversationPage {
  conversations: ConversationView[];
  has_more: boolean;
  /** Opaque; pass back as `cursor` for the next page. */
  next_cursor: string | null;
}

/** A page of messages, oldest first: `GET /api/conversations/{id}/messages/`. */
export interface MessagePage {
  messages: MessageView[];
  has_more: boolean;
}

/** A connected platform account (section 7): the answer of `POST /api/channels/`. */
export interface ChannelView {
  id: string;
  platform: Platform;
  name: string;
}

/** A channel as `GET /api/channels/` lists it. */
export interface ChannelListItem extends ChannelView {
  /** `webhook` when the server had a public URL at creation, else `polling`. */
  mode: "webhook" | "polling";
  created_at: IsoTime;
}

/** `POST /api/conversations/{id}/read/` answer. */
export interface ReadReceipt {
  conversation_id: string;
  user_id: number;
  read_at: IsoTime;
}

/** A user's automatic-answer settings (section 11): `GET`/`PUT /api/ai/settings/`. */
export interface AiSettingsView {
  /** Whether the server has a model configured; decided by the server, ignored in a `PUT`. */
  available: boolean;
  enabled: boolean;
  /** The business's own words to the model, at most 8000 characters. */
  instructions: string;
  new_conversation_status: "active" | "support_active";
}

/** Every REST error body: `{error, code}`. */
export interface ApiErrorBody {
  error: string;
  code: string;
}

// ---------------------------------------------------------------------------------------------
// Socket errors and close codes (section 6)

/** The `code` of an error frame. */
export type FrameErrorCode =
  | "invalid_json"
  | "unknown_type"
  | "invalid_message"
  | "rate_limited"
  | "internal_error";

/** `{"type":"error",...}`: the socket stays open. */
export interface ErrorFrame {
  type: "error";
  code: FrameErrorCode;
  error: string;
}

/** Every close code the server uses. */
export const Close = {
  GoingAway: 1001,
  Policy: 1008,
  TooBig: 1009,
  Internal: 1011,
  Unauthorized: 4001,
  Forbidden: 4003,
} as const;
/** One of the server's close codes. */
export type CloseCode = (typeof Close)[keyof typeof Close];

// ---------------------------------------------------------------------------------------------
// Chat socket, `/ws/chat/{conversation_id}/?token=…[&after_seq=N]` (section 4)

/** First frame of a chat socket. */
export interface ChatConnectionEstablishedFrame {
  type: "connection_established";
  conversation_id: string;
  user_id: number;
}

/** The snapshot after connecting: the last 50, or everything after `after_seq` (max 500). */
export interface RecentMessagesFrame {
  type: "recent_messages";
  messages: MessageView[];
  has_more: boolean;
  /** `true` when the socket connected with `after_seq`. */
  resumed?: true;
}

/** The answer to `get_messages`. */
export interface MessagesFrame {
  type: "messages";
  messages: MessageView[];
  has_more: boolean;
}

/** A newly stored message (or the stored original, answering a retried `client_id`). */
export interface ChatMessageFrame {
  type: "chat_message";
  message: MessageView;
}

/** A stored message changed (delivery status, `is_answered`). */
export interface MessageUpdatedFrame {
  type: "message_updated";
  message: MessageView;
}

/** Someone else is typing; `user_id` is `null` for automatic answers. */
export interface TypingIndicatorFrame {
  type: "typing_indicator";
  conversation_id: string;
  user_id: number | null;
  username: string;
  is_typing: boolean;
}

/** The conversation was marked read. */
export interface MessagesReadFrame {
  type: "messages_read";
  conversation_id: string;
  user_id: number;
  read_at: IsoTime;
}

/** Everything a chat socket receives. */
export type ChatServerFrame =
  | ChatConnectionEstablishedFrame
  | RecentMessagesFrame
  | MessagesFrame
  | ChatMessageFrame
  | MessageUpdatedFrame
  | TypingIndicatorFrame
  | MessagesReadFrame
  | ErrorFrame;

/** Store a support message; a repeated `client_id` stores nothing new. */
export interface ChatMessageClientFrame {
  type: "chat_message";
  content: string;
  client_id?: string | null;
}

/** Tell the other sockets of the conversation that this user types. */
export interface TypingClientFrame {
  type: "typing";
  is_typing: boolean;
}

/** Mark the conversation read. */
export interface MarkReadClientFrame {
  type: "mark_read";
}

/** Ask for older messages: `seq < before_seq`, oldest first. */
export interface GetMessagesClientFrame {
  type: "get_messages";
  before_seq?: number;
  /** 1..100, default 50. */
  limit?: number;
}

/** Everything a client may send on a chat socket. */
export type ChatClientFrame =
  | ChatMessageClientFrame
  | TypingClientFrame
  | MarkReadClientFrame
  | GetMessagesClientFrame;

// ---------------------------------------------------------------------------------------------
// Conversation list socket, `/ws/conversations/?token=…` (section 5)

/** First frame of a list socket. */
export interface ListConnectionEstablishedFrame {
  type: "connection_established";
  user_id: number;
}

/** A page of conversations, newest `updated_at` first. */
export interface ConversationsListFrame extends ConversationPage {
  type: "conversations_list";
}

/** A customer wrote. */
export interface NewCustomerMessageFrame {
  type: "new_customer_message";
  conversation_id: string;
  message: MessageView;
}

/** A conversation changed or was created. */
export interface ConversationUpdatedFrame {
  type: "conversation_updated";
  conversation: ConversationView;
}

/** Everything a list socket receives. */
export type ListServerFrame =
  | ListConnectionEstablishedFrame
  | ConversationsListFrame
  | NewCustomerMessageFrame
  | ConversationUpdatedFrame
  | ErrorFrame;

/** Ask for a page of conversations. */
export interface GetConversationsClientFrame {
  type: "get_conversations";
  status?: ConversationStatus | null;
  source?: Platform | null;
  search?: string | null;
  /** 1..100, default 50. */
  limit?: number;
  cursor?: string | null;
}

/** The first page again, with the filters of the last `get_conversations`. */
export interface RefreshConversationsClientFrame {
  type: "refresh_conversations";
}

/** Everything a client may send on a list socket. */
export type ListClientFrame = GetConversationsClientFrame | RefreshConversationsClientFrame;
