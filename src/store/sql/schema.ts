import type { Generated, Kysely } from "kysely";
import type {
  AttachmentKind,
  AttachmentState,
  ConversationStatus,
  DeliveryStatus,
  MessageType,
  NewConversationStatus,
  Platform,
} from "../../domain/types.js";

// Table shapes as Kysely sees them. Times are epoch milliseconds (bigint columns, read back as
// JS numbers on both drivers); booleans are integers 0/1 so that one schema serves both dialects.
// Enum-like columns carry their domain union: only this package writes them.

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  first_name: string;
  last_name: string;
  created_at: number;
}

export interface ChannelsTable {
  id: string;
  owner_id: number;
  platform: Platform;
  name: string;
  external_id: string;
  /** JSON of `ChannelCredentials`. */
  credentials: string;
  mode: "webhook" | "polling";
  poll_offset: Generated<number>;
  created_at: number;
  /** The process that polls this channel (`getUpdates`), while `poll_lease_until` is ahead. */
  poll_owner: Generated<string | null>;
  poll_lease_until: Generated<number | null>;
}

export interface CustomersTable {
  id: Generated<number>;
  owner_id: number;
  source: Platform;
  external_id: string;
  first_name: string;
  last_name: string;
  username: string | null;
  profile_picture: string | null;
  created_at: number;
}

export interface ConversationsTable {
  id: string;
  owner_id: number;
  /** Null once the channel is removed: history outlives the channel. */
  channel_id: string | null;
  customer_id: number;
  source: Platform;
  title: string;
  status: ConversationStatus;
  priority: Generated<number>;
  /** The per-conversation seq counter: the seq of the newest message. */
  last_seq: Generated<number>;
  unread_count: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: number;
  type: MessageType;
  content: string;
  sender_id: number | null;
  is_ai_response: number;
  is_answered: number;
  delivery_status: DeliveryStatus;
  delivery_error: string | null;
  client_id: string | null;
  /** The platform's message id for customer messages (the ingest idempotency key). */
  external_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface ReadMarkersTable {
  conversation_id: string;
  user_id: number;
  last_read_seq: number;
  read_at: number;
}

/** Pending sends only: a row is deleted when its message ends `sent` or `failed`. */
export interface OutboxTable {
  id: Generated<number>;
  message_id: string;
  channel_id: string;
  attempts: Generated<number>;
  next_attempt_at: number;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  /** Requests of a multi-request send already accepted (Instagram: the file, then the caption). */
  step: Generated<number>;
  /** The caption to send with a message's media; null when the agent wrote none. */
  caption: Generated<string | null>;
}

/** One media item of a message, in `position` order (section 7b). */
export interface AttachmentsTable {
  id: string;
  message_id: string;
  position: number;
  kind: AttachmentKind;
  state: AttachmentState;
  mime_type: string | null;
  file_name: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
  duration: number | null;
  latitude: number | null;
  longitude: number | null;
  title: string | null;
  address: string | null;
  phone_number: string | null;
  first_name: string | null;
  last_name: string | null;
  /** JSON of `PlatformFileRef`: where the platform keeps the file until we have fetched it. */
  platform_ref: string | null;
  created_at: number;
}

/** A file still to fetch from its platform; deleted once the bytes are stored or given up. */
export interface MediaJobsTable {
  id: Generated<number>;
  attachment_id: string;
  channel_id: string;
  attempts: Generated<number>;
  next_attempt_at: number;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
}

/** A user's automatic-answer settings; a user without a row has the defaults. */
export interface AiSettingsTable {
  user_id: number;
  enabled: number;
  instructions: string;
  new_conversation_status: NewConversationStatus;
  updated_at: number;
}

/**
 * The pending automatic answer of a conversation: at most one row per conversation, so a burst
 * of customer messages makes one answer. `trigger_seq` is the newest customer message it must
 * see; `claimed_seq` what it was when a worker took it (a newer one means another answer).
 */
export interface AiJobsTable {
  conversation_id: string;
  due_at: number;
  trigger_seq: number;
  claimed_seq: number | null;
  lock_token: string | null;
  locked_until: number | null;
  /** Claims since the conversation was last answered: a job that keeps dying is given up. */
  attempts: Generated<number>;
  created_at: number;
}

export interface Database {
  users: UsersTable;
  channels: ChannelsTable;
  customers: CustomersTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  read_markers: ReadMarkersTable;
  outbox: OutboxTable;
  ai_settings: AiSettingsTable;
  ai_jobs: AiJobsTable;
  attachments: AttachmentsTable;
  media_jobs: MediaJobsTable;
}

export type DialectName = "sqlite" | "postgres";

/** What every sub-store needs: the database and which dialect it speaks. */
export interface SqlContext {
  db: Kysely<Database>;
  dialect: DialectName;
}

/** A `Kysely` or a `Transaction`: helpers take either so they compose inside transactions. */
export type Executor = Kysely<Database>;
