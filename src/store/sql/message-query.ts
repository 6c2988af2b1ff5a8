import type { Attachment, Customer, Message, MessageSender } from "../../domain/types.js";
import { attachmentsOf, byMessage } from "./attachment-rows.js";
import { toCustomer } from "./mappers.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { DialectName, Executor } from "./schema.js";
import { writtenMessage } from "./written-rows.js";

// Messages are selected with their sender's username joined in; the customer (the same one
// for a whole page) is then fetched once per batch rather than repeated on every row.

/** A message's own columns and its author's username, as `writtenMessage` reads them. */
const MESSAGE_COLUMNS = [
  "m.id",
  "m.conversation_id",
  "m.seq",
  "m.content",
  "m.type",
  "m.sender_id",
  "m.is_ai_response",
  "m.is_answered",
  "m.delivery_status",
  "m.delivery_error",
  "m.client_id",
  "m.created_at",
  "u.username as sender_username",
] as const;

export function selectMessages(db: Executor) {
  return db
    .selectFrom("messages as m")
    .innerJoin("conversations as c", "c.id", "m.conversation_id")
    .leftJoin("users as u", "u.id", "m.sender_id")
    .select([...MESSAGE_COLUMNS, "c.customer_id"]);
}

/**
 * A page of one conversation: every row has the conversation's customer, so neither the
 * conversation nor the customer is joined per row (the page reads the customer once, or takes
 * the one its caller holds).
 */
export function selectPageMessages(db: Executor) {
  return db
    .selectFrom("messages as m")
    .leftJoin("users as u", "u.id", "m.sender_id")
    .select(MESSAGE_COLUMNS);
}

export type PageRow = Awaited<
  ReturnType<ReturnType<typeof selectPageMessages>["executeTakeFirstOrThrow"]>
>;

const customerOfConversation = new PreparedQuery((db) =>
  db
    .selectFrom("conversations as c")
    .innerJoin("customers as cu", "cu.id", "c.customer_id")
    .selectAll("cu")
    .where("c.id", "=", arg<string>(0)),
);

// The attachments of a page by its seq range: one statement text whatever the page's size,
// compiled once, where a list of message ids made a new text (and a new compile) per size.
const attachmentsOfRange = new PreparedQuery((db) =>
  db
    .selectFrom("attachments as a")
    .innerJoin("messages as m", "m.id", "a.message_id")
    .selectAll("a")
    .where("m.conversation_id", "=", arg<string>(0))
    .where("m.seq", ">=", arg<number>(1))
    .where("m.seq", "<=", arg<number>(2))
    .orderBy("m.seq")
    .orderBy("a.position"),
);

/**
 * Page rows of `conversationId` (seq ascending) as messages. `customer`: the conversation's,
 * when the caller holds it; read otherwise.
 */
export async function toPageMessages(
  db: Executor,
  dialect: DialectName,
  conversationId: string,
  rows: PageRow[],
  customer: Customer | undefined,
): Promise<Message[]> {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined) return [];
  const known = customer ?? (await readCustomer(db, dialect, conversationId));
  const attachments = byMessage(
    await attachmentsOfRange.execute(db, dialect, conversationId, first.seq, last.seq),
  );
  return rows.map((row) =>
    writtenMessage(row, known, rowSender(row), attachments.get(row.id) ?? []),
  );
}

/** The customer of a conversation (known to exist). */
export async function readCustomer(
  db: Executor,
  dialect: DialectName,
  conversationId: string,
): Promise<Customer> {
  const row = await customerOfConversation.executeTakeFirst(db, dialect, conversationId);
  // The foreign key makes this impossible; a clear error beats a half-built message.
  if (row === undefined) throw new Error(`Customer of ${conversationId} missing`);
  return toCustomer(row);
}

export type MessageRow = Awaited<
  ReturnType<ReturnType<typeof selectMessages>["executeTakeFirstOrThrow"]>
>;

/** The author of a selected message row (its `sender_id` and the joined username), if any. */
export function rowSender(row: {
  sender_id: number | null;
  sender_username: string | null;
}): MessageSender | null {
  return row.sender_id !== null && row.sender_username !== null
    ? { id: row.sender_id, username: row.sender_username }
    : null;
}

function toMessage(row: MessageRow, customer: Customer, attachments: Attachment[]): Message {
  return writtenMessage(row, customer, rowSender(row), attachments);
}

/** Maps rows in their order, fetching their customers and attachments in one query each. */
export async function toMessages(db: Executor, rows: MessageRow[]): Promise<Message[]> {
  if (rows.length === 0) return [];
  const ids = [...new Set(rows.map((r) => r.customer_id))];
  const customers = await db.selectFrom("customers").selectAll().where("id", "in", ids).execute();
  const byId = new Map(customers.map((c) => [c.id, toCustomer(c)]));
  const attachments = await attachmentsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => {
    const customer = byId.get(row.customer_id);
    // The foreign key makes this impossible; a clear error beats a half-built message.
    if (customer === undefined) throw new Error(`Customer ${row.customer_id} missing`);
    return toMessage(row, customer, attachments.get(row.id) ?? []);
  });
}

export async function findMessage(db: Executor, id: string): Promise<Message | undefined> {
  const row = await selectMessages(db).where("m.id", "=", id).executeTakeFirst();
  if (row === undefined) return undefined;
  const [message] = await toMessages(db, [row]);
  return message;
}

/** For results of writes made in the same transaction: the row is known to exist. */
export async function loadMessage(db: Executor, id: string): Promise<Message> {
  const message = await findMessage(db, id);
  if (message === undefined) throw new Error(`Message ${id} missing`);
  return message;
}
