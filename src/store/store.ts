import type {
  AiSettings,
  Attachment,
  AttachmentFields,
  Channel,
  Conversation,
  ConversationFilter,
  ConversationPage,
  ConversationStatus,
  Customer,
  InboundAttachment,
  Message,
  MessagePage,
  MessageType,
  Platform,
  PlatformFileRef,
  User,
  UserWithPassword,
} from "../domain/types.js";

// The store port. The domain talks to this interface only; `store/sql/` implements it with
// Kysely over SQLite and PostgreSQL. Methods that change several rows run them in one
// transaction and return everything the caller needs to notify sockets, so that no caller
// re-reads what the store just wrote.

export interface NewUser {
  username: string;
  passwordHash: string;
  firstName: string;
  lastName: string;
}

export interface UserStore {
  /** Throws `ConflictError` when the username is taken. */
  create(user: NewUser): Promise<User>;
  findByUsername(username: string): Promise<UserWithPassword | undefined>;
  findById(id: number): Promise<User | undefined>;
  /**
   * The user and, when this user owns it, the conversation (undefined when it is missing or
   * another owner's): the two reads of a chat socket's handshake in one.
   */
  findWithConversation(
    id: number,
    conversationId: string,
  ): Promise<{ user: User; conversation: Conversation | undefined } | undefined>;
}

export type NewChannel = Pick<
  Channel,
  "ownerId" | "platform" | "name" | "externalId" | "credentials" | "mode"
>;

export interface ChannelStore {
  /** Throws `ConflictError` when the platform account is already connected (by anyone). */
  create(channel: NewChannel): Promise<Channel>;
  findById(id: string): Promise<Channel | undefined>;
  /** The Instagram channel receiving messages for an account id. */
  findByExternalId(platform: Platform, externalId: string): Promise<Channel | undefined>;
  listByOwner(ownerId: number): Promise<Channel[]>;
  /** Every channel on the platform (in `mode` when given), for workers that serve them all. */
  listAll(platform: Platform, mode?: Channel["mode"]): Promise<Channel[]>;
  /** Removes the channel; its conversations and messages stay. False when not the owner's. */
  remove(ownerId: number, id: string): Promise<boolean>;
  setPollOffset(id: string, offset: number): Promise<void>;
  /**
   * Takes or renews the polling lease of a channel for `owner` until `now + leaseMs`, in one
   * conditional write: true when the lease was free, had run out (`poll_lease_until < now`) or
   * was `owner`'s already; false when another owner holds it or the channel is gone. Of several
   * owners asking at once, exactly one gets true.
   */
  acquirePollLease(id: string, owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** Gives the lease up at once if `owner` holds it (a no-op otherwise). */
  releasePollLease(id: string, owner: string): Promise<void>;
}

/** A customer message arriving from a platform; see `ChatService.ingestCustomerMessage`. */
export interface InboundMessage {
  channelId: string;
  ownerId: number;
  source: Platform;
  /** The customer's platform id (Telegram `from.id`, Instagram sender IGSID). */
  customerExternalId: string;
  firstName: string;
  lastName: string;
  username: string | null;
  /** Platform message id, the idempotency key: Telegram `message_id`, Instagram `mid`. */
  externalMessageId: string;
  content: string;
  /** Media of the message; a file among them gets a download job in the same transaction. */
  attachments?: InboundAttachment[];
  /** When the customer sent it; the store uses its own clock when absent. */
  sentAt?: number;
}

export interface IngestResult {
  /** True when this platform message was stored before: nothing changed, nothing to notify. */
  duplicate: boolean;
  message: Message;
  conversation: Conversation;
  /** True when the customer row was created by this call (profile fetch wanted). */
  customerCreated: boolean;
  /** True when this message (re)scheduled the conversation's automatic answer. */
  answerScheduled: boolean;
}

/** Given to `ingest` when automatic answers are available (configured) on this server. */
export interface AnswerScheduling {
  /** The quiet window: the answer is due this long after the customer's latest message. */
  replyDelayMs: number;
}

export interface NewOutgoingMessage {
  conversationId: string;
  type: Exclude<MessageType, "customer">;
  /** The agent for `support` messages; null for AI and marketing. */
  senderId: number | null;
  /**
   * The user the reply is written for: a conversation of another owner is then not found
   * (`NotFoundError`, as for a missing one), checked under the conversation's lock.
   */
  ownerId?: number;
  content: string;
  clientId: string | null;
  /**
   * Queue the message for delivery to the platform (an outbox row in the same transaction,
   * delivery status `pending`). When false (no channel) the message is stored as `sent`.
   */
  deliver: boolean;
  /** An agent's upload, its bytes already in the file store under the attachment id. */
  attachments?: OutgoingAttachment[];
  /** The caption to send with the media; null when the agent wrote none (content is a label). */
  caption?: string | null;
}

/** A file an agent uploaded: stored before the message, under `id`. */
export interface OutgoingAttachment extends AttachmentFields {
  id: string;
}

export interface AppendResult {
  /** True when (conversation, sender, clientId) was stored before; `message` is that one. */
  duplicate: boolean;
  message: Message;
  conversation: Conversation;
  /** Customer messages whose `is_answered` turned true in this transaction. */
  answered: Message[];
}

export interface ReadResult {
  conversation: Conversation;
  readAt: number;
}

export interface ConversationStore {
  /** A conversation with customer, last message and unread count; undefined when absent. */
  findById(id: string): Promise<Conversation | undefined>;
  /** The seq of the conversation's newest message (0 before any); undefined when absent. */
  lastSeq(id: string): Promise<number | undefined>;
  /** Newest `updatedAt` first (ties by id); `cursor` comes from a previous page. */
  list(
    ownerId: number,
    filter: ConversationFilter,
    limit: number,
    cursor: string | null,
  ): Promise<ConversationPage>;
  /**
   * Sets status and/or priority, moves `updatedAt`; a status other than `active` cancels a
   * pending automatic answer. Undefined when absent.
   */
  update(
    id: string,
    changes: { status?: ConversationStatus; priority?: number },
  ): Promise<Conversation | undefined>;
  /** Resets the unread count and records the reader's read marker. */
  markRead(conversationId: string, userId: number, at: number): Promise<ReadResult>;
}

export interface MessageStore {
  /**
   * One transaction: upsert the customer (unique per owner, source, external id), upsert the
   * conversation (one per channel and customer; a `closed` one reopens as `support_active`),
   * insert the message with the next `seq`, bump `updatedAt` and the unread count.
   * Safe under concurrent calls with the same ids: one customer, one conversation, one message.
   * With `answers`, a new conversation starts in the owner's `new_conversation_status` (when
   * their answers are enabled), and a message in an `active` conversation of an enabled owner
   * schedules (or moves on) the conversation's one answer job, in the same transaction.
   */
  ingest(inbound: InboundMessage, answers?: AnswerScheduling): Promise<IngestResult>;
  /**
   * One transaction: insert the message with the next `seq`, mark earlier customer messages
   * answered, move an `active` or `closed` conversation to `support_active` (support messages),
   * bump `updatedAt`, and queue an outbox row when `deliver`; a support message also cancels a
   * pending automatic answer. Idempotent on clientId.
   * Throws `NotFoundError` when the conversation does not exist.
   */
  append(message: NewOutgoingMessage): Promise<AppendResult>;
  /**
   * Replaces the content of a customer message found by its platform id (Telegram edits).
   * Undefined when no such message was stored (the edit of a message we never saw).
   */
  editByExternalId(edit: {
    channelId: string;
    customerExternalId: string;
    externalMessageId: string;
    content: string;
  }): Promise<Message | undefined>;
  findById(id: string): Promise<Message | undefined>;
  // Pages: `customer` is the conversation's, when the caller already holds it (a socket that
  // joined it); the page reads it otherwise.
  /** The last `limit` messages, oldest first; `hasMore` when older ones exist. */
  recent(conversationId: string, limit: number, customer?: Customer): Promise<MessagePage>;
  /** Messages with seq > afterSeq, oldest first, at most `limit`; `hasMore` when more follow. */
  after(
    conversationId: string,
    afterSeq: number,
    limit: number,
    customer?: Customer,
  ): Promise<MessagePage>;
  /** Messages with seq < beforeSeq, the `limit` newest of them, oldest first. */
  before(
    conversationId: string,
    beforeSeq: number,
    limit: number,
    customer?: Customer,
  ): Promise<MessagePage>;
}

export interface CustomerStore {
  findById(id: number): Promise<Customer | undefined>;
  /** Fills in profile fields fetched from the platform; also refreshes conversation titles. */
  updateProfile(
    id: number,
    profile: Partial<Pick<Customer, "firstName" | "lastName" | "username" | "profilePicture">>,
  ): Promise<Customer | undefined>;
}

/** A send waiting in the outbox, with what the worker needs to perform it. */
export interface OutboxJob {
  id: number;
  messageId: string;
  channelId: string;
  /** Where to send: Telegram chat id or Instagram recipient id (the customer's external id). */
  recipientExternalId: string;
  content: string;
  /** Tries made before this one. */
  attempts: number;
  /** The message's files (an agent's upload), bytes in the file store under their id. */
  attachments: Attachment[];
  /** The caption to send with the files; null when there is none. */
  caption: string | null;
  /** Requests of this send the platform already accepted (Instagram: file, then caption). */
  step: number;
}

export interface OutboxStore {
  /**
   * Takes up to `limit` due jobs (next attempt at or before `now`) and leases them until
   * `now + leaseMs`, so that no other worker (in any process) takes them meanwhile.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<OutboxJob[]>;
  /**
   * Claims, by id and under the same conditions, up to `limit` of the jobs this process queued
   * since it last asked, without searching the table. Undefined when it knows of none, or cannot
   * vouch that it knows them all: `claimDue` finds them then.
   */
  claimQueued?(now: number, limit: number, leaseMs: number): Promise<OutboxJob[] | undefined>;
  /**
   * The platform accepted it: message `sent`, job done. Returns the updated message.
   * `attachments`: the job's, as claimed, which saves reading them again.
   */
  markSent(jobId: number, attachments?: Attachment[]): Promise<Message>;
  /** A retryable failure: counts the attempt and schedules the next one. */
  markRetry(jobId: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Gives up: message `failed` with `error` as its delivery error. Returns the message. */
  markFailed(jobId: number, error: string, attachments?: Attachment[]): Promise<Message>;
  /** The earliest `next_attempt_at` of any pending job, to sleep until then. */
  nextDueAt(): Promise<number | undefined>;
  /** Sends not yet `sent` or `failed` (the metrics' `fiko_outbox_pending`). */
  countPending(): Promise<number>;
  /** Records that the first `step` requests of a multi-request send were accepted. */
  markStep(jobId: number, step: number): Promise<void>;
}

export interface AiSettingsStore {
  /** The user's settings; the defaults when they never changed them. */
  get(userId: number): Promise<AiSettings>;
  /** Changes the given fields and returns the whole result. */
  update(userId: number, changes: Partial<AiSettings>): Promise<AiSettings>;
}

/** An answer job taken by one worker until `leaseMs` runs out. */
export interface AnswerClaim {
  conversationId: string;
  /** Unique to this claim: only its holder may finish the job. */
  token: string;
  /** Claims of this turn so far, this one included (a job whose worker keeps dying stops). */
  attempts: number;
}

/** What the model said: text for the customer (or none), and whether it asked for a person. */
export interface AnswerOutcome {
  text: string | null;
  handoff: boolean;
}

export interface AnswerResult {
  /** False when the job was no longer ours to finish (cancelled, taken over, switched off). */
  applied: boolean;
  /** The AI message stored, if any. */
  message: Message | null;
  /** Customer messages whose `is_answered` turned true. */
  answered: Message[];
  /** The conversation after the change; undefined when nothing changed. */
  conversation: Conversation | undefined;
}

export interface AnswerJobStore {
  /**
   * Takes up to `limit` jobs whose quiet window has passed and that nobody holds (or whose
   * holder's lease ran out), leasing them until `now + leaseMs`; no two workers get the same job.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<AnswerClaim[]>;
  /** When the next job can be claimed, to sleep until then. */
  nextDueAt(): Promise<number | undefined>;
  /**
   * One transaction under the conversation lock: unless the claim is stale, the conversation
   * left `active` or the owner switched answers off, stores `text` as an `AI` message (queued for
   * delivery), moves the conversation to `support_active` on `handoff`, and ends the job, or
   * keeps it for one more answer when a customer wrote while the model was being asked.
   */
  complete(claim: AnswerClaim, outcome: AnswerOutcome): Promise<AnswerResult>;
  /** No answer could be had: an `active` conversation moves to `support_active`; the job ends. */
  giveUp(claim: AnswerClaim): Promise<AnswerResult>;
  /** Ends the job without any change (answers switched off, conversation no longer active). */
  drop(claim: AnswerClaim): Promise<void>;
  /** Gives the claim back unfinished (shutting down), for any worker to take at once. */
  release(claim: AnswerClaim): Promise<void>;
  /** AI messages stored in the conversation since `since` (the hourly limit). */
  countAnswersSince(conversationId: string, since: number): Promise<number>;
}

/** An attachment with what serving and fetching it need. */
export interface AttachmentRecord {
  attachment: Attachment;
  messageId: string;
  conversationId: string;
  /** The user who owns the conversation: the only one whose bearer token opens it. */
  ownerId: number;
  /** Where the platform keeps the file, for one still `pending`. */
  ref: PlatformFileRef | null;
  /** The channel the message came through (null once removed). */
  channelId: string | null;
}

/** A file download taken by one worker until its lease runs out. */
export interface MediaJob {
  id: number;
  attachmentId: string;
  channelId: string;
  /** Tries made before this one. */
  attempts: number;
}

export interface AttachmentStore {
  findById(id: string): Promise<AttachmentRecord | undefined>;
  /**
   * The bytes are in the file store: state `stored` with their size and sniffed type; the
   * download job ends. Returns the message, for a `message_updated`; undefined when absent.
   */
  markStored(id: string, file: { size: number; mimeType: string }): Promise<Message | undefined>;
  /** The platform refused the file for good: state `unavailable` (no link); the job ends. */
  markUnavailable(id: string): Promise<Message | undefined>;
  /** Takes up to `limit` due downloads, leased until `now + leaseMs` (as the outbox does). */
  claimDue(now: number, limit: number, leaseMs: number): Promise<MediaJob[]>;
  markRetry(jobId: number, nextAttemptAt: number, error: string): Promise<void>;
  nextDueAt(): Promise<number | undefined>;
}

export interface Store {
  readonly users: UserStore;
  readonly channels: ChannelStore;
  readonly customers: CustomerStore;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly outbox: OutboxStore;
  readonly aiSettings: AiSettingsStore;
  readonly answers: AnswerJobStore;
  readonly attachments: AttachmentStore;
  /** Runs pending migrations; called once at start. */
  migrate(): Promise<void>;
  /** Throws when the database does not answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
