import { CompiledQuery } from "kysely";
import type {
  Attachment,
  AttachmentKind,
  AttachmentState,
  Customer,
  DeliveryStatus,
  Message,
  MessageType,
} from "../../domain/types.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { Executor } from "./schema.js";
import { SQLITE_BOUND_COUNT } from "./sqlite-dialect.js";
import { writtenMessage } from "./written-rows.js";

// better-sqlite3 hands a result to JavaScript value by value, building an object per row; that
// was most of a 50-message page's cost. On SQLite a page is built by SQLite itself as one JSON
// text of arrays, which V8 parses in one go, attachments included: each message row is left
// joined with its attachments (one index probe per message, through (message_id, position)),
// which cost less than a second statement over the page's seq range (about 40 us of CPU for
// a 50-message page, its messages' rows read again to find their ids). PostgreSQL keeps the
// query builder's pages.

const MESSAGE_COLUMNS =
  "m.id, m.seq, m.content, m.type, m.sender_id, m.is_ai_response, m.is_answered, " +
  "m.delivery_status, m.delivery_error, m.client_id, m.created_at, u.username";

// A nested array only where there is an attachment: a message without one adds a null.
const ATTACHMENT =
  "case when a.id is null then null else json_array(a.position, a.id, a.kind, a.state, " +
  "a.mime_type, a.file_name, a.size, a.width, a.height, a.duration, a.latitude, a.longitude, " +
  "a.title, a.address, a.phone_number, a.first_name, a.last_name) end";

export type AttachmentTuple = [
  position: number,
  id: string,
  kind: AttachmentKind,
  state: AttachmentState,
  mimeType: string | null,
  fileName: string | null,
  size: number | null,
  width: number | null,
  height: number | null,
  duration: number | null,
  latitude: number | null,
  longitude: number | null,
  title: string | null,
  address: string | null,
  phoneNumber: string | null,
  firstName: string | null,
  lastName: string | null,
];

/** One message and one of its attachments (null: it has none); a message per attachment. */
export type PageTuple = [
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
  attachment: AttachmentTuple | null,
];

/** Rows of one conversation with `condition` on seq, `order` by seq, at most `?` of them. */
function pageText(condition: string, order: "asc" | "desc"): string {
  // The aggregate takes the rows in the order of the limited subquery and of the index probe;
  // SQLite does not promise that order, so the reader checks it (and sorts if ever needed)
  // rather than paying for a sort on every page.
  return (
    `select json_group_array(json_array(${MESSAGE_COLUMNS}, ${ATTACHMENT})) as page ` +
    "from (select id, seq, content, type, sender_id, is_ai_response, is_answered, " +
    "delivery_status, delivery_error, client_id, created_at from messages " +
    `where conversation_id = ?${condition} order by seq ${order} limit ${SQLITE_BOUND_COUNT}) as m ` +
    "left join users as u on u.id = m.sender_id " +
    "left join attachments as a on a.message_id = m.id"
  );
}

/**
 * A page read newest first or oldest first: its tuples, a message per attachment, in the
 * page's order (seq, then attachment position).
 */
export interface SqlitePage {
  tuples: PageTuple[];
  order: "asc" | "desc";
}

/** A page statement: rows of one conversation, `condition` on seq, in `order` by seq. */
class PageQuery<A extends readonly unknown[]> {
  private readonly query: PreparedQuery<A, { page: string }>;

  constructor(
    condition: string,
    private readonly order: "asc" | "desc",
    arity: A["length"],
  ) {
    const text = pageText(condition, order);
    const placeholders = Array.from({ length: arity }, (_, i) => arg<unknown>(i));
    this.query = new PreparedQuery(() => ({
      compile: () => CompiledQuery.raw(text, placeholders),
    }));
  }

  async read(db: Executor, ...args: A): Promise<SqlitePage> {
    const row = await this.query.executeTakeFirst(db, "sqlite", ...args);
    // The text is SQLite's own json_array output of the columns above, in that order.
    const tuples = row === undefined ? [] : (JSON.parse(row.page) as PageTuple[]);
    return { tuples: inPageOrder(tuples, this.order), order: this.order };
  }
}

const NEWEST = new PageQuery<[string, number]>("", "desc", 2);
const FOLLOWING = new PageQuery<[string, number, number]>(" and seq > ?", "asc", 3);
const PRECEDING = new PageQuery<[string, number, number]>(" and seq < ?", "desc", 3);

/** The newest `limit` messages, newest first. */
export const sqliteNewest = (db: Executor, conversationId: string, limit: number) =>
  NEWEST.read(db, conversationId, limit);

/** Messages with seq > afterSeq, oldest first, at most `limit`. */
export const sqliteFollowing = (
  db: Executor,
  conversationId: string,
  afterSeq: number,
  limit: number,
) => FOLLOWING.read(db, conversationId, afterSeq, limit);

/** Messages with seq < beforeSeq, newest first, at most `limit`. */
export const sqlitePreceding = (
  db: Executor,
  conversationId: string,
  beforeSeq: number,
  limit: number,
) => PRECEDING.read(db, conversationId, beforeSeq, limit);

/** The number of messages in a page (its tuples repeat a message per attachment). */
export function pageSize({ tuples }: SqlitePage): number {
  let count = 0;
  let previous: string | undefined;
  for (const t of tuples) {
    if (t[0] !== previous) count++;
    previous = t[0];
  }
  return count;
}

function toAttachment(t: AttachmentTuple): Attachment {
  return {
    id: t[1],
    kind: t[2],
    state: t[3],
    mimeType: t[4],
    fileName: t[5],
    size: t[6],
    width: t[7],
    height: t[8],
    duration: t[9],
    latitude: t[10],
    longitude: t[11],
    title: t[12],
    address: t[13],
    phoneNumber: t[14],
    firstName: t[15],
    lastName: t[16],
  };
}

/** Whether the tuples come in the page's order: seq, then attachment position. */
function ordered(tuples: PageTuple[], order: "asc" | "desc"): boolean {
  for (let i = 1; i < tuples.length; i++) {
    const previous = tuples[i - 1];
    const current = tuples[i];
    if (previous === undefined || current === undefined) return false;
    const step = current[1] - previous[1];
    if (step === 0) {
      if ((current[12]?.[0] ?? 0) <= (previous[12]?.[0] ?? 0)) return false;
    } else if (order === "asc" ? step < 0 : step > 0) return false;
  }
  return true;
}

/** The tuples in the page's order: as they came (the usual case, checked) or sorted. */
export function inPageOrder(tuples: PageTuple[], order: "asc" | "desc"): PageTuple[] {
  if (ordered(tuples, order)) return tuples;
  const sign = order === "asc" ? 1 : -1;
  return tuples.sort((x, y) => sign * (x[1] - y[1]) || (x[12]?.[0] ?? 0) - (y[12]?.[0] ?? 0));
}

/**
 * The first `limit` messages of the page, oldest first, each with its attachments in position
 * order and `customer` (the conversation's).
 */
export function pageMessages(
  page: SqlitePage,
  conversationId: string,
  limit: number,
  customer: Customer,
): Message[] {
  const { tuples, order } = page;
  const messages: Message[] = [];
  let current: Message | undefined;
  for (const t of tuples) {
    if (current === undefined || current.id !== t[0]) {
      if (messages.length === limit) break;
      current = writtenMessage(
        {
          id: t[0],
          conversation_id: conversationId,
          seq: t[1],
          content: t[2],
          type: t[3],
          is_ai_response: t[5],
          is_answered: t[6],
          delivery_status: t[7],
          delivery_error: t[8],
          client_id: t[9],
          created_at: t[10],
        },
        customer,
        t[4] !== null && t[11] !== null ? { id: t[4], username: t[11] } : null,
        [],
      );
      messages.push(current);
    }
    if (t[12] !== null) current.attachments.push(toAttachment(t[12]));
  }
  return order === "desc" ? messages.reverse() : messages;
}
