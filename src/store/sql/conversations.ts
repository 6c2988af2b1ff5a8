import { type Expression, type SqlBool, sql, type Updateable } from "kysely";
import type {
  Conversation,
  ConversationFilter,
  ConversationPage,
  ConversationStatus,
} from "../../domain/types.js";
import { NotFoundError, ValidationError } from "../../errors.js";
import type { ConversationStore, ReadResult } from "../store.js";
import { loadConversation, selectConversations, toConversation } from "./conversation-query.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { ConversationsTable, SqlContext } from "./schema.js";

/** Escapes LIKE wildcards so a search for "50%" or "a_b" matches those characters literally. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

// `lower(col) LIKE lower(pattern) ESCAPE '\'` is case-insensitive on both dialects (PostgreSQL's
// LIKE is case-sensitive, SQLite's only folds ASCII) and the explicit ESCAPE is needed because
// SQLite has no default escape character. The builder cannot express ESCAPE, hence `sql`.
function lowerLike(column: string, pattern: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${sql.ref(column)}) like lower(${pattern}) escape '\\'`;
}

// Every agent message and every chat socket's handshake looks its conversation up by id.
const byId = new PreparedQuery((db) => selectConversations(db).where("c.id", "=", arg<string>(0)));

// A group of sockets starting on this process reads where the conversation's seq stands.
const lastSeqById = new PreparedQuery((db) =>
  db.selectFrom("conversations").select("last_seq").where("id", "=", arg<string>(0)),
);

export class SqlConversationStore implements ConversationStore {
  constructor(private readonly ctx: SqlContext) {}

  async lastSeq(id: string): Promise<number | undefined> {
    const row = await lastSeqById.executeTakeFirst(this.ctx.db, this.ctx.dialect, id);
    return row?.last_seq;
  }

  async findById(id: string): Promise<Conversation | undefined> {
    const row = await byId.executeTakeFirst(this.ctx.db, this.ctx.dialect, id);
    return row === undefined ? undefined : toConversation(row);
  }

  async list(
    ownerId: number,
    filter: ConversationFilter,
    limit: number,
    cursor: string | null,
  ): Promise<ConversationPage> {
    // Callers validate limits; this keeps a bad one from yielding hasMore without a cursor.
    if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError("Invalid limit");
    let query = selectConversations(this.ctx.db).where("c.owner_id", "=", ownerId);
    if (filter.status !== undefined) query = query.where("c.status", "=", filter.status);
    if (filter.source !== undefined) query = query.where("c.source", "=", filter.source);
    const search = filter.search?.trim();
    if (search !== undefined && search !== "") {
      const pattern = likeContains(search);
      query = query.where((eb) =>
        eb.or([
          lowerLike("c.title", pattern),
          lowerLike("cu.first_name", pattern),
          lowerLike("cu.last_name", pattern),
          lowerLike("cu.username", pattern),
        ]),
      );
    }
    if (cursor !== null) {
      const { updatedAt, id } = decodeCursor(cursor);
      query = query.where((eb) =>
        eb.or([
          eb("c.updated_at", "<", updatedAt),
          eb.and([eb("c.updated_at", "=", updatedAt), eb("c.id", "<", id)]),
        ]),
      );
    }
    const rows = await query
      .orderBy("c.updated_at", "desc")
      .orderBy("c.id", "desc")
      // One row more than asked tells whether another page exists without a COUNT.
      .limit(limit + 1)
      .execute();

    const hasMore = rows.length > limit;
    const page = (hasMore ? rows.slice(0, limit) : rows).map(toConversation);
    const last = page.at(-1);
    return {
      conversations: page,
      hasMore,
      nextCursor:
        hasMore && last !== undefined
          ? encodeCursor({ updatedAt: last.updatedAt, id: last.id })
          : null,
    };
  }

  async update(
    id: string,
    changes: { status?: ConversationStatus; priority?: number },
  ): Promise<Conversation | undefined> {
    const set: Updateable<ConversationsTable> = { updated_at: Date.now() };
    if (changes.status !== undefined) set.status = changes.status;
    if (changes.priority !== undefined) set.priority = changes.priority;
    return this.ctx.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable("conversations")
        .set(set)
        .where("id", "=", id)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) return undefined;
      // Leaving `active` cancels the automatic answer that was waiting (its worker re-checks the
      // status before storing, under the conversation lock, so one already running is dropped).
      if (changes.status !== undefined && changes.status !== "active") {
        await trx.deleteFrom("ai_jobs").where("conversation_id", "=", id).execute();
      }
      return loadConversation(trx, id);
    });
  }

  async markRead(conversationId: string, userId: number, at: number): Promise<ReadResult> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("conversations")
        .set({ unread_count: 0 })
        .where("id", "=", conversationId)
        .returning("last_seq")
        .executeTakeFirst();
      if (row === undefined) throw new NotFoundError("Conversation not found");
      await trx
        .insertInto("read_markers")
        .values({
          conversation_id: conversationId,
          user_id: userId,
          last_read_seq: row.last_seq,
          read_at: at,
        })
        .onConflict((oc) =>
          oc.columns(["conversation_id", "user_id"]).doUpdateSet((eb) => ({
            last_read_seq: eb.ref("excluded.last_read_seq"),
            read_at: eb.ref("excluded.read_at"),
          })),
        )
        .execute();
      return { conversation: await loadConversation(trx, conversationId), readAt: at };
    });
  }
}
