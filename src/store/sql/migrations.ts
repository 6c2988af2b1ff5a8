import {
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from "kysely";
import { postgresIngestFunction } from "./postgres-ingest-function.js";
import type { Database, DialectName } from "./schema.js";
import { unansweredIndex } from "./unanswered-index.js";

// Migrations live in code (not in files on disk) so that the compiled `dist/` carries them.
// One set serves both dialects; they differ only in how an auto-increment key is declared,
// which is why each migration is built for a dialect.

type IdColumn = (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

function autoId(dialect: DialectName): IdColumn {
  // SQLite only auto-increments an `integer primary key`; PostgreSQL uses an identity column.
  return dialect === "sqlite"
    ? (col) => col.primaryKey().autoIncrement()
    : (col) => col.primaryKey().generatedByDefaultAsIdentity();
}

// Conversation ids break ties in the list order and its cursor. Binary collation makes
// PostgreSQL order them exactly as SQLite does whatever the database's default locale, and the
// columns that refer to them share it (PostgreSQL cannot compare text of two collations).
function conversationIdText(dialect: DialectName): IdColumn {
  return dialect === "postgres" ? (col) => col.modifyFront(sql`collate "C"`) : (col) => col;
}

function initial(dialect: DialectName): Migration {
  const id = autoId(dialect);
  const conversationId = conversationIdText(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("users")
        .addColumn("id", "integer", id)
        .addColumn("username", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("first_name", "text", (c) => c.notNull())
        .addColumn("last_name", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("channels")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("owner_id", "integer", (c) =>
          c.notNull().references("users.id").onDelete("cascade"),
        )
        .addColumn("platform", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("external_id", "text", (c) => c.notNull())
        .addColumn("credentials", "text", (c) => c.notNull())
        .addColumn("mode", "text", (c) => c.notNull())
        .addColumn("poll_offset", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("channels_platform_external_id_key", ["platform", "external_id"])
        .execute();
      await db.schema
        .createIndex("channels_owner_id_idx")
        .on("channels")
        .column("owner_id")
        .execute();

      await db.schema
        .createTable("customers")
        .addColumn("id", "integer", id)
        .addColumn("owner_id", "integer", (c) =>
          c.notNull().references("users.id").onDelete("cascade"),
        )
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("external_id", "text", (c) => c.notNull())
        .addColumn("first_name", "text", (c) => c.notNull())
        .addColumn("last_name", "text", (c) => c.notNull())
        .addColumn("username", "text")
        .addColumn("profile_picture", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("customers_owner_source_external_id_key", [
          "owner_id",
          "source",
          "external_id",
        ])
        .execute();

      await db.schema
        .createTable("conversations")
        .addColumn("id", "text", (c) => conversationId(c).primaryKey())
        .addColumn("owner_id", "integer", (c) =>
          c.notNull().references("users.id").onDelete("cascade"),
        )
        // Removing a channel keeps its history: the conversation just loses its channel.
        .addColumn("channel_id", "text", (c) => c.references("channels.id").onDelete("set null"))
        .addColumn("customer_id", "integer", (c) =>
          c.notNull().references("customers.id").onDelete("cascade"),
        )
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("title", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("priority", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("last_seq", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("unread_count", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("conversations_channel_customer_key", ["channel_id", "customer_id"])
        .execute();
      // Serves the owner's list in its exact order (and the keyset cursor).
      await db.schema
        .createIndex("conversations_owner_updated_idx")
        .on("conversations")
        .columns(["owner_id", "updated_at desc", "id desc"])
        .execute();
      await db.schema
        .createIndex("conversations_customer_id_idx")
        .on("conversations")
        .column("customer_id")
        .execute();

      await db.schema
        .createTable("messages")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("conversation_id", "text", (c) =>
          conversationId(c).notNull().references("conversations.id").onDelete("cascade"),
        )
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("content", "text", (c) => c.notNull())
        .addColumn("sender_id", "integer", (c) => c.references("users.id").onDelete("set null"))
        .addColumn("is_ai_response", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("is_answered", "integer", (c) => c.notNull())
        .addColumn("delivery_status", "text", (c) => c.notNull())
        .addColumn("delivery_error", "text")
        .addColumn("client_id", "text")
        .addColumn("external_id", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        // Also the index for every page query (conversation_id, seq range).
        .addUniqueConstraint("messages_conversation_seq_key", ["conversation_id", "seq"])
        // Backstops for the idempotency checks made under the conversation lock.
        .addUniqueConstraint("messages_conversation_sender_client_key", [
          "conversation_id",
          "sender_id",
          "client_id",
        ])
        .addUniqueConstraint("messages_conversation_external_key", [
          "conversation_id",
          "external_id",
        ])
        .execute();

      await db.schema
        .createTable("read_markers")
        .addColumn("conversation_id", "text", (c) =>
          conversationId(c).notNull().references("conversations.id").onDelete("cascade"),
        )
        .addColumn("user_id", "integer", (c) =>
          c.notNull().references("users.id").onDelete("cascade"),
        )
        .addColumn("last_read_seq", "integer", (c) => c.notNull())
        .addColumn("read_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("read_markers_pkey", ["conversation_id", "user_id"])
        .execute();

      await db.schema
        .createTable("outbox")
        // bigint on PostgreSQL: outbox ids are consumed by every send, forever.
        .addColumn("id", dialect === "sqlite" ? "integer" : "bigint", id)
        .addColumn("message_id", "text", (c) =>
          c.notNull().unique().references("messages.id").onDelete("cascade"),
        )
        // No foreign key: a job outlives its channel and then fails with a clear reason.
        .addColumn("channel_id", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("locked_until", "bigint")
        .addColumn("last_error", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("outbox_next_attempt_at_idx")
        .on("outbox")
        .column("next_attempt_at")
        .execute();
    },
  };
}

// Which process polls a Telegram channel (getUpdates allows one reader per bot), and until when:
// a lease that the owner renews and that another process takes over once it runs out.
function pollLease(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable("channels").addColumn("poll_owner", "text").execute();
      await db.schema.alterTable("channels").addColumn("poll_lease_until", "bigint").execute();
    },
  };
}

// Automatic answers: each user's settings, and the durable answer job (one per conversation).
function automaticAnswers(dialect: DialectName): Migration {
  const conversationId = conversationIdText(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("ai_settings")
        .addColumn("user_id", "integer", (c) =>
          c.primaryKey().references("users.id").onDelete("cascade"),
        )
        .addColumn("enabled", "integer", (c) => c.notNull())
        .addColumn("instructions", "text", (c) => c.notNull())
        .addColumn("new_conversation_status", "text", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("ai_jobs")
        .addColumn("conversation_id", "text", (c) =>
          conversationId(c).primaryKey().references("conversations.id").onDelete("cascade"),
        )
        .addColumn("due_at", "bigint", (c) => c.notNull())
        .addColumn("trigger_seq", "integer", (c) => c.notNull())
        .addColumn("claimed_seq", "integer")
        .addColumn("lock_token", "text")
        .addColumn("locked_until", "bigint")
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("ai_jobs_due_at_idx").on("ai_jobs").column("due_at").execute();
    },
  };
}

// Media (protocol.md section 7b): one row per attachment of a message, the durable download job
// of each file still to fetch from its platform, and the outbox's progress through a send made
// of several requests (an Instagram file, then its caption). Messages stored before this
// migration have no attachment rows: their `attachments` is `[]`.
function attachments(dialect: DialectName): Migration {
  const id = autoId(dialect);
  // SQLite's `real` is 8 bytes; PostgreSQL's is 4, too coarse for coordinates.
  const float = dialect === "sqlite" ? "real" : "double precision";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("attachments")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("message_id", "text", (c) =>
          c.notNull().references("messages.id").onDelete("cascade"),
        )
        .addColumn("position", "integer", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("mime_type", "text")
        .addColumn("file_name", "text")
        .addColumn("size", "bigint")
        .addColumn("width", "integer")
        .addColumn("height", "integer")
        .addColumn("duration", "integer")
        .addColumn("latitude", float)
        .addColumn("longitude", float)
        .addColumn("title", "text")
        .addColumn("address", "text")
        .addColumn("phone_number", "text")
        .addColumn("first_name", "text")
        .addColumn("last_name", "text")
        .addColumn("platform_ref", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("attachments_message_id_idx")
        .on("attachments")
        .columns(["message_id", "position"])
        .execute();
      await db.schema
        .createTable("media_jobs")
        .addColumn("id", dialect === "sqlite" ? "integer" : "bigint", id)
        .addColumn("attachment_id", "text", (c) =>
          c.notNull().unique().references("attachments.id").onDelete("cascade"),
        )
        // No foreign key: a job outlives its channel and then gives up with a clear reason.
        .addColumn("channel_id", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("locked_until", "bigint")
        .addColumn("last_error", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("media_jobs_next_attempt_at_idx")
        .on("media_jobs")
        .column("next_attempt_at")
        .execute();
      await db.schema
        .alterTable("outbox")
        .addColumn("step", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable("outbox").addColumn("caption", "text").execute();
    },
  };
}

class InCodeMigrations implements MigrationProvider {
  constructor(private readonly dialect: DialectName) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    // Names sort in application order; never rename or edit a released migration.
    return {
      "0001_initial": initial(this.dialect),
      "0002_poll_lease": pollLease(),
      "0003_automatic_answers": automaticAnswers(this.dialect),
      "0004_attachments": attachments(this.dialect),
      "0005_unanswered_index": unansweredIndex(),
      "0006_postgres_ingest_function": postgresIngestFunction(this.dialect),
    };
  }
}

/**
 * Applies every pending migration; a no-op when the schema is current. On PostgreSQL `schema`
 * names where Kysely keeps its bookkeeping tables: unqualified, Kysely would find another
 * schema's `kysely_migration` table in the same database and take it for ours.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  dialect: DialectName,
  schema?: string,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrations(dialect),
    migrationTableSchema: schema,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Database migration ${failed ?? "setup"} failed: ${reason}`, { cause: error });
  }
}
