import type { Logger } from "pino";
import type { Bus } from "../bus/bus.js";
import { NotFoundError, ValidationError } from "../errors.js";
import type {
  AnswerClaim,
  AnswerOutcome,
  AnswerResult,
  AnswerScheduling,
  AppendResult,
  InboundMessage,
  IngestResult,
  OutgoingAttachment,
  Store,
} from "../store/store.js";
import { type BusEvent, conversationTopic, ownerTopic } from "./events.js";
import { KIND_LABELS } from "./kind-labels.js";
import type {
  Conversation,
  ConversationFilter,
  ConversationPage,
  ConversationStatus,
  Customer,
  Message,
  MessagePage,
} from "./types.js";

export const MAX_CONTENT_LENGTH = 4096;
/** Telegram takes captions of at most 1024 characters; Instagram sends it as a text. */
export const MAX_CAPTION_LENGTH = 1024;

export interface Actor {
  id: number;
  username: string;
}

export interface ChatServiceDeps {
  store: Store;
  bus: Bus;
  log: Logger;
  /** Wakes the delivery worker when a send was queued, so it need not poll. */
  onOutboxQueued?: () => void;
  /** Wakes the media download worker when a customer message brought files to fetch. */
  onMediaQueued?: () => void;
  /** Told of every message stored (not of duplicates): the metrics count them. */
  onStored?: (message: Message, conversation: Conversation) => void;
  /** Present when automatic answers are configured (section 11). */
  answers?: AnswerScheduling;
  /** Wakes the answer worker when a customer message scheduled an answer. */
  onAnswerScheduled?: () => void;
}

/** The name typing indicators carry while the model writes (`user_id` is null). */
export const AI_USERNAME = "AI";

/**
 * The use cases of the chat: every write goes through here, stores first, then publishes the
 * events that the gateways turn into frames. Ownership is checked here, once, for every caller
 * (sockets and REST alike).
 */
export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  /** The entry point of every platform adapter: store a customer message, then notify. */
  async ingestCustomerMessage(inbound: InboundMessage): Promise<IngestResult> {
    const result = await this.deps.store.messages.ingest(inbound, this.deps.answers);
    if (result.duplicate) return result;
    if (result.answerScheduled) this.deps.onAnswerScheduled?.();
    const { message, conversation } = result;
    if (message.attachments.some((a) => a.state === "pending")) this.deps.onMediaQueued?.();
    this.deps.onStored?.(message, conversation);
    await this.publishTogether([
      [
        conversationTopic(conversation.id),
        { kind: "message_created", conversationId: conversation.id, message },
      ],
      [
        ownerTopic(conversation.ownerId),
        { kind: "new_customer_message", conversationId: conversation.id, message },
      ],
      conversationUpdated(conversation),
    ]);
    return result;
  }

  /** A customer edited a message on the platform (Telegram `edited_message`). */
  async editCustomerMessage(edit: {
    channelId: string;
    customerExternalId: string;
    externalMessageId: string;
    content: string;
  }): Promise<Message | undefined> {
    const message = await this.deps.store.messages.editByExternalId(edit);
    if (message) await this.notifyMessageUpdated(message);
    return message;
  }

  /** Throws `NotFoundError` unless the conversation exists and belongs to `userId`. */
  async requireConversation(userId: number, conversationId: string): Promise<Conversation> {
    const conversation = await this.deps.store.conversations.findById(conversationId);
    if (!conversation || conversation.ownerId !== userId) {
      throw new NotFoundError("Conversation not found");
    }
    return conversation;
  }

  /**
   * An agent's reply. A repeated `clientId` returns the stored message with `duplicate: true`
   * and publishes nothing, so client retries are safe.
   */
  async sendMessage(
    actor: Actor,
    conversationId: string,
    input: { content: string; clientId: string | null },
  ): Promise<AppendResult> {
    const content = validContent(input.content);
    return this.appendSupport(actor, conversationId, { content, clientId: input.clientId });
  }

  /**
   * An agent's file, its bytes already in the file store: the same effects as a text reply.
   * `content` is the caption as written (trimmed) or, without one, the label of its kind.
   */
  async sendMedia(
    actor: Actor,
    conversationId: string,
    input: { attachment: OutgoingAttachment; caption: string | null; clientId: string | null },
  ): Promise<AppendResult> {
    const caption = input.caption === null ? null : input.caption.trim() || null;
    if (caption !== null && caption.length > MAX_CAPTION_LENGTH) {
      throw new ValidationError(`content must be at most ${MAX_CAPTION_LENGTH} characters`);
    }
    return this.appendSupport(actor, conversationId, {
      content: caption ?? KIND_LABELS[input.attachment.kind],
      clientId: input.clientId,
      attachments: [input.attachment],
      caption,
    });
  }

  /**
   * The ownership check happens in the append's transaction, under the conversation's lock: a
   * conversation of another owner is not found there, exactly as `requireConversation` says,
   * without a read of its own before the write.
   */
  private async appendSupport(
    actor: Actor,
    conversationId: string,
    input: {
      content: string;
      clientId: string | null;
      attachments?: OutgoingAttachment[];
      caption?: string | null;
    },
  ): Promise<AppendResult> {
    const result = await this.deps.store.messages.append({
      conversationId,
      type: "support",
      senderId: actor.id,
      ownerId: actor.id,
      deliver: true,
      ...input,
    });
    if (result.duplicate) return result;
    await this.publishAppended(result.message, result.answered, result.conversation);
    return result;
  }

  /**
   * Finishes an automatic answer: the `AI` message travels exactly like an agent's reply
   * (stored with its outbox row, pushed, delivered); a handoff's status change follows it.
   */
  async completeAnswer(claim: AnswerClaim, outcome: AnswerOutcome): Promise<AnswerResult> {
    const result = await this.deps.store.answers.complete(claim, outcome);
    await this.publishAnswer(result);
    return result;
  }

  /** No answer could be had: a person takes the conversation over. */
  async giveUpAnswer(claim: AnswerClaim): Promise<AnswerResult> {
    const result = await this.deps.store.answers.giveUp(claim);
    await this.publishAnswer(result);
    return result;
  }

  /** The model's typing indicator, to every chat socket of the conversation. */
  async answerTyping(conversationId: string, isTyping: boolean): Promise<void> {
    await this.publish(conversationTopic(conversationId), {
      kind: "typing",
      conversationId,
      userId: null,
      username: AI_USERNAME,
      isTyping,
      originSocketId: "",
    });
  }

  private async publishAnswer(result: AnswerResult): Promise<void> {
    if (!result.applied || result.conversation === undefined) return;
    if (result.message === null) {
      await this.publishConversation(result.conversation);
      return;
    }
    await this.publishAppended(result.message, result.answered, result.conversation);
  }

  private async publishAppended(
    message: Message,
    answered: Message[],
    conversation: Conversation,
  ): Promise<void> {
    const conversationId = conversation.id;
    this.deps.onStored?.(message, conversation);
    if (message.deliveryStatus === "pending") this.deps.onOutboxQueued?.();
    const topic = conversationTopic(conversationId);
    await this.publishTogether([
      [topic, { kind: "message_created", conversationId, message }],
      ...answered.map(
        (each): Publication => [topic, { kind: "message_updated", conversationId, message: each }],
      ),
      conversationUpdated(conversation),
    ]);
  }

  async markRead(actor: Actor, conversationId: string): Promise<{ readAt: number }> {
    await this.requireConversation(actor.id, conversationId);
    const { conversation, readAt } = await this.deps.store.conversations.markRead(
      conversationId,
      actor.id,
      Date.now(),
    );
    await this.publishTogether([
      [
        conversationTopic(conversationId),
        { kind: "messages_read", conversationId, userId: actor.id, readAt },
      ],
      conversationUpdated(conversation),
    ]);
    return { readAt };
  }

  /** Typing is not stored; access was checked when the socket joined the conversation. */
  async typing(
    actor: Actor,
    conversationId: string,
    isTyping: boolean,
    originSocketId: string,
  ): Promise<void> {
    await this.publish(conversationTopic(conversationId), {
      kind: "typing",
      conversationId,
      userId: actor.id,
      username: actor.username,
      isTyping,
      originSocketId,
    });
  }

  listConversations(
    userId: number,
    filter: ConversationFilter,
    limit: number,
    cursor: string | null,
  ): Promise<ConversationPage> {
    return this.deps.store.conversations.list(userId, filter, limit, cursor);
  }

  async updateConversation(
    userId: number,
    conversationId: string,
    changes: { status?: ConversationStatus; priority?: number },
  ): Promise<Conversation> {
    await this.requireConversation(userId, conversationId);
    const updated = await this.deps.store.conversations.update(conversationId, changes);
    if (!updated) throw new NotFoundError("Conversation not found");
    await this.publishConversation(updated);
    return updated;
  }

  /** Messages around a point: `afterSeq` (resume), `beforeSeq` (paging back), else the newest. */
  async history(
    userId: number,
    conversationId: string,
    query: { afterSeq?: number; beforeSeq?: number; limit: number },
  ): Promise<MessagePage> {
    await this.requireConversation(userId, conversationId);
    return this.readMessages(conversationId, query);
  }

  /**
   * `history` without the ownership check, for callers that checked it when they joined.
   * `customer`: the conversation's, when the caller has just read it (saves reading it again).
   */
  readMessages(
    conversationId: string,
    query: { afterSeq?: number; beforeSeq?: number; limit: number; customer?: Customer },
  ): Promise<MessagePage> {
    const messages = this.deps.store.messages;
    const { customer } = query;
    if (query.afterSeq !== undefined)
      return messages.after(conversationId, query.afterSeq, query.limit, customer);
    if (query.beforeSeq !== undefined) {
      return messages.before(conversationId, query.beforeSeq, query.limit, customer);
    }
    return messages.recent(conversationId, query.limit, customer);
  }

  /** Delivery status changes and other updates made outside a user action. */
  async notifyMessageUpdated(message: Message): Promise<void> {
    await this.publish(conversationTopic(message.conversationId), {
      kind: "message_updated",
      conversationId: message.conversationId,
      message,
    });
  }

  /** Re-reads a conversation (after a profile fetch, say) and announces it to its owner. */
  async notifyConversationChanged(conversationId: string): Promise<void> {
    const conversation = await this.deps.store.conversations.findById(conversationId);
    if (conversation) await this.publishConversation(conversation);
  }

  private publishConversation(conversation: Conversation): Promise<void> {
    return this.publish(...conversationUpdated(conversation));
  }

  /**
   * Publishes the events in the order given without waiting for each before the next: the bus
   * keeps the order of a topic's events (one Redis connection carries a topic, and its commands
   * run in the order sent), and the Redis client writes the commands of one tick together, so
   * a customer message's three events cost one write and one reply instead of three round
   * trips. Events of different topics reach different sockets, whose order nothing relates.
   */
  private async publishTogether(publications: readonly Publication[]): Promise<void> {
    await Promise.all(publications.map(([topic, event]) => this.publish(topic, event)));
  }

  // The write is committed: a failed publish must not fail the request. Sockets that missed the
  // event catch up from the store when the bus reconnects (see the gateway's resync).
  private async publish(topic: string, event: BusEvent): Promise<void> {
    try {
      await this.deps.bus.publish(topic, event);
    } catch (err) {
      this.deps.log.warn({ err, topic, kind: event.kind }, "bus publish failed");
    }
  }
}

function validContent(raw: string): string {
  const content = raw.trim();
  if (content.length === 0) throw new ValidationError("content must not be empty");
  if (content.length > MAX_CONTENT_LENGTH) {
    throw new ValidationError(`content must be at most ${MAX_CONTENT_LENGTH} characters`);
  }
  return content;
}

/** An event and the topic it goes to. */
type Publication = readonly [topic: string, event: BusEvent];

function conversationUpdated(conversation: Conversation): Publication {
  return [ownerTopic(conversation.ownerId), { kind: "conversation_updated", conversation }];
}
