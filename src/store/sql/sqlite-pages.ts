import { CompiledQuery } from "kysely";
import type { DeliveryStatus, MessageType } from "../../domain/types.js";
import type { PageRow } from "./message-query.js";
import type { Executor } from "./schema.js";

// better-sqlite3 hands a result to JavaScript value by value, building an object per row; that
// was most of a 50-message page's cost (about 150 us of each chat connect's snapshot). On
// SQLite the page is built by SQLite itself as one JSON text of arrays, which V8 parses in one
// go: about 60 us for the same page. PostgreSQL keeps the query builder's pages.

const COLUMNS =
  "m.id, m.seq, m.content, m.type, m.sender_id, m.is_ai_response, m.is_answered, " +
  "m.delivery_status, m.delivery_error, m.client_id, m.created_at, u.username";

type PageTuple = [
  id: string,
  seq: number,
  content: string,
  type: MessageType,
  senderId: number | null,
  isAiResponse: number,
  isAnswered: number,
  deliveryStatus: DeliveryStatus,
  deliveryError: string | null,
  clientId: string | null,
  createdAt: number,
  senderUsername: string | null,
];

/** Rows of one conversation with `condition` on seq, `order` by seq, at most `?` of them. */
function pageText(condition: string, order: "asc" | "desc"): string {
  return (
    `select json_group_array(json_array(${COLUMNS}) order by m.seq ${order}) as page ` +
    "from (select id, seq, content, type, sender_id, is_ai_response, is_answered, " +
    "delivery_status, delivery_error, client_id, created_at from messages " +
    `where conversation_id = ?${condition} order by seq ${order} limit ?) as m ` +
    "left join users as u on u.id = m.sender_id"
  );
}

const NEWEST = pageText("", "desc");
const FOLLOWING = pageText(" and seq > ?", "asc");
const PRECEDING = pageText(" and seq < ?", "desc");

async function page(
  db: Executor,
  text: string,
  conversationId: string,
  parameters: unknown[],
): Promise<PageRow[]> {
  const result = await db.executeQuery<{ page: string }>(CompiledQuery.raw(text, parameters));
  const json = result.rows[0]?.page ?? "[]";
  // The text is SQLite's own json_array output of the columns above, in that order.
  const tuples = JSON.parse(json) as PageTuple[];
  return tuples.map((t) => ({
    id: t[0],
    conversation_id: conversationId,
    seq: t[1],
    content: t[2],
    type: t[3],
    sender_id: t[4],
    is_ai_response: t[5],
    is_answered: t[6],
    delivery_status: t[7],
    delivery_error: t[8],
    client_id: t[9],
    created_at: t[10],
    sender_username: t[11],
  }));
}

/** The newest `limit` messages, newest first. */
export const sqliteNewest = (db: Executor, conversationId: string, limit: number) =>
  page(db, NEWEST, conversationId, [conversationId, limit]);

/** Messages with seq > afterSeq, oldest first, at most `limit`. */
export const sqliteFollowing = (
  db: Executor,
  conversationId: string,
  afterSeq: number,
  limit: number,
) => page(db, FOLLOWING, conversationId, [conversationId, afterSeq, limit]);

/** Messages with seq < beforeSeq, newest first, at most `limit`. */
export const sqlitePreceding = (
  db: Executor,
  conversationId: string,
  beforeSeq: number,
  limit: number,
) => page(db, PRECEDING, conversationId, [conversationId, beforeSeq, limit]);
