// Domain records as the core sees them: camelCase, times in epoch milliseconds.
// The wire shapes (snake_case, ISO times) are made from these in `views.ts` only.

// The literal lists are part of the wire vocabulary; they live there, once.
export {
  ATTACHMENT_KINDS,
  type AttachmentKind,
  CONVERSATION_STATUSES,
  type ConversationStatus,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  MESSAGE_TYPES,
  type MessageType,
  PLATFORMS,
  type Platform,
} from "../../client/wire.js";

import type {
  AttachmentKind,
  ConversationStatus,
  DeliveryStatus,
  MessageType,
  Platform,
} from "../../client/wire.js";

export interface User {
  id: number;
  username: string;
  firstName: string;
  lastName: string;
  createdAt: number;
}

export interface UserWithPassword extends User {
  passwordHash: string;
}

export interface Customer {
  id: number;
  ownerId: number;
  source: Platform;
  /** The customer's id on the platform (Telegram user id, Instagram-scoped id). */
  externalId: string;
  firstName: string;
  lastName: string;
  username: string | null;
  profilePicture: string | null;
  createdAt: number;
}

export interface MessageSender {
  id: number;
  username: string;
}

/**
 * Where a file's bytes are: `stored` in the file store; `pending` still on the platform (the
 * download job, or the first request for it, fetches them); `unavailable` refused or lost for
 * good (too big for the Bot API, an expired link): the attachment stays, without a link;
 * `none` for kinds without a file (location, contact).
 */
export type AttachmentState = "stored" | "pending" | "unavailable" | "none";

/** Where a platform keeps a file until we fetched it (never shown to clients). */
export type PlatformFileRef =
  | { platform: "telegram"; fileId: string }
  | { platform: "instagram"; url: string };

/** The fields of a media item of a message (section 7b); those that do not apply are null. */
export interface AttachmentFields {
  kind: AttachmentKind;
  mimeType: string | null;
  fileName: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
  duration: number | null;
  latitude: number | null;
  longitude: number | null;
  title: string | null;
  address: string | null;
  phoneNumber: string | null;
  firstName: string | null;
  lastName: string | null;
}

export interface Attachment extends AttachmentFields {
  id: string;
  state: AttachmentState;
}

/** An attachment arriving from a platform; `ref` is null for kinds without a file. */
export interface InboundAttachment extends AttachmentFields {
  ref: PlatformFileRef | null;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  content: string;
  type: MessageType;
  customer: Customer;
  sender: MessageSender | null;
  isAiResponse: boolean;
  isAnswered: boolean;
  deliveryStatus: DeliveryStatus;
  deliveryError: string | null;
  clientId: string | null;
  /** In the order the customer or agent sent them; empty for plain text. */
  attachments: Attachment[];
  createdAt: number;
}

export interface LastMessage {
  id: string;
  content: string;
  type: MessageType;
  createdAt: number;
}

export interface Conversation {
  id: string;
  ownerId: number;
  channelId: string | null;
  title: string;
  status: ConversationStatus;
  source: Platform;
  customer: Customer;
  priority: number;
  /** Highest seq stored so far; 0 for a conversation without messages. */
  lastSeq: number;
  createdAt: number;
  updatedAt: number;
  lastMessage: LastMessage | null;
  unreadCount: number;
}

export interface ChannelCredentials {
  /** Telegram bot token. */
  botToken?: string;
  /** Telegram webhook secret (`X-Telegram-Bot-Api-Secret-Token`). */
  secretToken?: string;
  /** Instagram access token. */
  accessToken?: string;
}

export interface Channel {
  id: string;
  ownerId: number;
  platform: Platform;
  /** Display name: the bot's @username or the Instagram account name. */
  name: string;
  /** Telegram bot id or Instagram account id; unique per platform. */
  externalId: string;
  /** Secrets. Never serialized to clients or logs. */
  credentials: ChannelCredentials;
  /** "webhook" when PUBLIC_URL was set at creation, else "polling". */
  mode: "webhook" | "polling";
  /** Telegram getUpdates offset for polling channels. */
  pollOffset: number;
  createdAt: number;
}

/** A page of conversations; `nextCursor` is opaque to clients. */
export interface ConversationPage {
  conversations: Conversation[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface MessagePage {
  messages: Message[];
  hasMore: boolean;
}

export interface ConversationFilter {
  status?: ConversationStatus;
  source?: Platform;
  search?: string;
}

/** The statuses a new conversation may start in (protocol.md section 11). */
export const NEW_CONVERSATION_STATUSES = ["active", "support_active"] as const;
export type NewConversationStatus = (typeof NEW_CONVERSATION_STATUSES)[number];

/** A user's automatic-answer settings. */
export interface AiSettings {
  /** The master switch: when false no conversation of this user is answered. */
  enabled: boolean;
  /** The business's own words to the model. */
  instructions: string;
  newConversationStatus: NewConversationStatus;
}

export const DEFAULT_AI_SETTINGS: Readonly<AiSettings> = Object.freeze({
  enabled: false,
  instructions: "",
  newConversationStatus: "support_active",
});
