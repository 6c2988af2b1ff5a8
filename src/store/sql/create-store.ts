import { sql } from "kysely";
import type {
  AiSettingsStore,
  AnswerJobStore,
  AttachmentStore,
  ChannelStore,
  ConversationStore,
  CustomerStore,
  MessageStore,
  OutboxStore,
  Store,
  UserStore,
} from "../store.js";
import { SqlAiSettingsStore } from "./ai-settings.js";
import { SqlAnswerJobStore } from "./answer-jobs.js";
import { SqlAttachmentStore } from "./attachments.js";
import { SqlChannelStore } from "./channels.js";
import { openPostgres, openSqlite, type StoreLog } from "./connect.js";
import { SqlConversationStore } from "./conversations.js";
import { SqlCustomerStore } from "./customers.js";
import { SqlMessageStore } from "./messages.js";
import { migrateToLatest } from "./migrations.js";
import { SqlOutboxStore } from "./outbox.js";
import { QueuedOutbox } from "./queued-outbox.js";
import type { SqlContext } from "./schema.js";
import { SqlUserStore } from "./users.js";

export type { StoreLog } from "./connect.js";

export type SqlStoreOptions =
  | { sqlitePath: string }
  | {
      databaseUrl: string;
      /** PostgreSQL schema to work in (created by `migrate` if missing); tests isolate with it. */
      schema?: string;
    };

/**
 * The Store over SQLite (`sqlitePath`: a file, its directory created if missing, or ":memory:")
 * or PostgreSQL (`databaseUrl`, connecting lazily). Call `migrate()` once before use. `log`
 * hears about PostgreSQL connections dropped while idle (the pool replaces them).
 */
export async function createSqlStore(options: SqlStoreOptions, log?: StoreLog): Promise<Store> {
  const ctx: SqlContext =
    "sqlitePath" in options
      ? { db: openSqlite(options.sqlitePath, log), dialect: "sqlite" }
      : { db: openPostgres(options.databaseUrl, options.schema, log), dialect: "postgres" };
  const schema = "databaseUrl" in options ? options.schema : undefined;
  return new SqlStore(ctx, schema);
}

class SqlStore implements Store {
  readonly users: UserStore;
  readonly channels: ChannelStore;
  readonly customers: CustomerStore;
  readonly conversations: ConversationStore;
  readonly messages: MessageStore;
  readonly outbox: OutboxStore;
  readonly aiSettings: AiSettingsStore;
  readonly answers: AnswerJobStore;
  readonly attachments: AttachmentStore;

  constructor(
    private readonly ctx: SqlContext,
    private readonly schema: string | undefined,
  ) {
    this.users = new SqlUserStore(ctx);
    this.channels = new SqlChannelStore(ctx);
    this.customers = new SqlCustomerStore(ctx);
    this.conversations = new SqlConversationStore(ctx);
    // Sends queued by this process's writes, for its delivery worker to claim by id.
    const queued = new QueuedOutbox();
    this.messages = new SqlMessageStore(ctx, queued);
    this.outbox = new SqlOutboxStore(ctx, queued);
    this.aiSettings = new SqlAiSettingsStore(ctx);
    this.answers = new SqlAnswerJobStore(ctx, queued);
    this.attachments = new SqlAttachmentStore(ctx);
  }

  async migrate(): Promise<void> {
    if (this.ctx.dialect === "sqlite") return migrateToLatest(this.ctx.db, "sqlite");
    if (this.schema !== undefined) {
      // The name was checked to be a plain identifier when the pool was made.
      await sql`create schema if not exists ${sql.id(this.schema)}`.execute(this.ctx.db);
    }
    const { rows } = await sql<{
      schema: string | null;
    }>`select current_schema() as schema`.execute(this.ctx.db);
    const schema = this.schema ?? rows[0]?.schema ?? "public";
    await migrateToLatest(this.ctx.db, "postgres", schema);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.ctx.db);
  }

  async close(): Promise<void> {
    await this.ctx.db.destroy();
  }
}
