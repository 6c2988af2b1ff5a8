import type { Message, MessagePage } from "../../domain/types.js";
import type {
  AnswerScheduling,
  AppendResult,
  InboundMessage,
  IngestResult,
  MessageStore,
  NewOutgoingMessage,
} from "../store.js";
import { append } from "./append.js";
import { ingest } from "./ingest.js";
import { findMessage, type MessageRow, selectMessages, toMessages } from "./message-query.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { QueuedOutbox } from "./queued-outbox.js";
import type { SqlContext } from "./schema.js";

// The snapshot of every chat socket's handshake.
const newest = new PreparedQuery((db) =>
  selectMessages(db)
    .where("m.conversation_id", "=", arg<string>(0))
    .orderBy("m.seq", "desc")
    .limit(arg<number>(1)),
);

export class SqlMessageStore implements MessageStore {
  constructor(
    private readonly ctx: SqlContext,
    private readonly outbox: QueuedOutbox,
  ) {}

  ingest(inbound: InboundMessage, answers?: AnswerScheduling): Promise<IngestResult> {
    return ingest(this.ctx, inbound, answers);
  }

  append(message: NewOutgoingMessage): Promise<AppendResult> {
    return append(this.ctx, message, this.outbox);
  }

  async editByExternalId(edit: {
    channelId: string;
    customerExternalId: string;
    externalMessageId: string;
    content: string;
  }): Promise<Message | undefined> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("messages as m")
        .innerJoin("conversations as c", "c.id", "m.conversation_id")
        .innerJoin("customers as cu", "cu.id", "c.customer_id")
        .select("m.id")
        .where("c.channel_id", "=", edit.channelId)
        .where("cu.external_id", "=", edit.customerExternalId)
        .where("m.external_id", "=", edit.externalMessageId)
        .where("m.type", "=", "customer")
        .executeTakeFirst();
      if (row === undefined) return undefined;
      await trx
        .updateTable("messages")
        .set({ content: edit.content, updated_at: Date.now() })
        .where("id", "=", row.id)
        .execute();
      return findMessage(trx, row.id);
    });
  }

  findById(id: string): Promise<Message | undefined> {
    return findMessage(this.ctx.db, id);
  }

  async recent(conversationId: string, limit: number): Promise<MessagePage> {
    const rows = await newest.execute(this.ctx.db, this.ctx.dialect, conversationId, limit + 1);
    return this.newestFirstPage(rows, limit);
  }

  async after(conversationId: string, afterSeq: number, limit: number): Promise<MessagePage> {
    const rows = await selectMessages(this.ctx.db)
      .where("m.conversation_id", "=", conversationId)
      .where("m.seq", ">", afterSeq)
      .orderBy("m.seq", "asc")
      .limit(limit + 1)
      .execute();
    const hasMore = rows.length > limit;
    return {
      messages: await toMessages(this.ctx.db, hasMore ? rows.slice(0, limit) : rows),
      hasMore,
    };
  }

  async before(conversationId: string, beforeSeq: number, limit: number): Promise<MessagePage> {
    const rows = await selectMessages(this.ctx.db)
      .where("m.conversation_id", "=", conversationId)
      .where("m.seq", "<", beforeSeq)
      .orderBy("m.seq", "desc")
      .limit(limit + 1)
      .execute();
    return this.newestFirstPage(rows, limit);
  }

  /** Rows fetched newest first (limit + 1 of them) become a page in reading order. */
  private async newestFirstPage(rows: MessageRow[], limit: number): Promise<MessagePage> {
    const hasMore = rows.length > limit;
    const page = (hasMore ? rows.slice(0, limit) : rows).reverse();
    return { messages: await toMessages(this.ctx.db, page), hasMore };
  }
}
