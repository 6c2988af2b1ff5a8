import type { Customer, Message, MessagePage } from "../../domain/types.js";
import type {
  AnswerScheduling,
  AppendResult,
  InboundMessage,
  IngestResult,
  MessageStore,
  NewOutgoingMessage,
} from "../store.js";
import { append } from "./append.js";
import { GroupCommit } from "./group-commit.js";
import { type IngestRequest, ingest, ingestBatch } from "./ingest.js";
import {
  findMessage,
  type PageRow,
  readCustomer,
  selectPageMessages,
  toPageMessages,
} from "./message-query.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { QueuedOutbox } from "./queued-outbox.js";
import type { SqlContext } from "./schema.js";
import {
  pageMessages,
  pageSize,
  type SqlitePage,
  sqliteFollowing,
  sqliteNewest,
  sqlitePreceding,
} from "./sqlite-pages.js";

// The snapshot of every chat socket's handshake (`newest`), its resume (`following`) and the
// pages back (`preceding`), compiled once (PostgreSQL; SQLite reads them as JSON with their
// attachments, see sqlite-pages.ts).
const newest = new PreparedQuery((db) =>
  selectPageMessages(db)
    .where("m.conversation_id", "=", arg<string>(0))
    .orderBy("m.seq", "desc")
    .limit(arg<number>(1)),
);
const following = new PreparedQuery((db) =>
  selectPageMessages(db)
    .where("m.conversation_id", "=", arg<string>(0))
    .where("m.seq", ">", arg<number>(1))
    .orderBy("m.seq", "asc")
    .limit(arg<number>(2)),
);
const preceding = new PreparedQuery((db) =>
  selectPageMessages(db)
    .where("m.conversation_id", "=", arg<string>(0))
    .where("m.seq", "<", arg<number>(1))
    .orderBy("m.seq", "desc")
    .limit(arg<number>(2)),
);

// Customer messages arriving while others are being stored are stored together (group commit).
// SQLite has one writer, so one batch at a time; PostgreSQL overlaps a few, each on its own
// pooled connection (the pool holds ten).
const MAX_INGEST_BATCH = 64;
const INGEST_CONCURRENCY = { sqlite: 1, postgres: 4 } as const;

export class SqlMessageStore implements MessageStore {
  private readonly ingests: GroupCommit<IngestRequest, IngestResult>;

  constructor(
    private readonly ctx: SqlContext,
    private readonly outbox: QueuedOutbox,
  ) {
    this.ingests = new GroupCommit({
      runOne: (request) => ingest(ctx, request),
      runBatch: (requests) => ingestBatch(ctx, requests),
      maxBatch: MAX_INGEST_BATCH,
      concurrency: INGEST_CONCURRENCY[ctx.dialect],
      gatherRound: ctx.dialect === "sqlite",
    });
  }

  ingest(inbound: InboundMessage, answers?: AnswerScheduling): Promise<IngestResult> {
    return this.ingests.submit({ inbound, answers });
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

  async recent(conversationId: string, limit: number, customer?: Customer): Promise<MessagePage> {
    const { db, dialect } = this.ctx;
    if (dialect === "sqlite") {
      return this.sqlitePage(
        conversationId,
        await sqliteNewest(db, conversationId, limit + 1),
        limit,
        customer,
      );
    }
    const rows = await newest.execute(db, dialect, conversationId, limit + 1);
    return this.postgresPage(conversationId, rows, "desc", limit, customer);
  }

  async after(
    conversationId: string,
    afterSeq: number,
    limit: number,
    customer?: Customer,
  ): Promise<MessagePage> {
    const { db, dialect } = this.ctx;
    if (dialect === "sqlite") {
      const page = await sqliteFollowing(db, conversationId, afterSeq, limit + 1);
      return this.sqlitePage(conversationId, page, limit, customer);
    }
    const rows = await following.execute(db, dialect, conversationId, afterSeq, limit + 1);
    return this.postgresPage(conversationId, rows, "asc", limit, customer);
  }

  async before(
    conversationId: string,
    beforeSeq: number,
    limit: number,
    customer?: Customer,
  ): Promise<MessagePage> {
    const { db, dialect } = this.ctx;
    if (dialect === "sqlite") {
      const page = await sqlitePreceding(db, conversationId, beforeSeq, limit + 1);
      return this.sqlitePage(conversationId, page, limit, customer);
    }
    const rows = await preceding.execute(db, dialect, conversationId, beforeSeq, limit + 1);
    return this.postgresPage(conversationId, rows, "desc", limit, customer);
  }

  /** A SQLite page of limit + 1 messages (attachments included) in reading order. */
  private async sqlitePage(
    conversationId: string,
    page: SqlitePage,
    limit: number,
    customer: Customer | undefined,
  ): Promise<MessagePage> {
    const size = pageSize(page);
    if (size === 0) return { messages: [], hasMore: false };
    const { db, dialect } = this.ctx;
    const known = customer ?? (await readCustomer(db, dialect, conversationId));
    return { messages: pageMessages(page, conversationId, limit, known), hasMore: size > limit };
  }

  /** Rows fetched in `order` (limit + 1 of them) become a page in reading order. */
  private async postgresPage(
    conversationId: string,
    rows: PageRow[],
    order: "asc" | "desc",
    limit: number,
    customer: Customer | undefined,
  ): Promise<MessagePage> {
    const hasMore = rows.length > limit;
    const first = hasMore ? rows.slice(0, limit) : rows;
    const page = order === "desc" ? first.reverse() : first;
    const { db, dialect } = this.ctx;
    return {
      messages: await toPageMessages(db, dialect, conversationId, page, customer),
      hasMore,
    };
  }
}
