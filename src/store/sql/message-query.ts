import type { Attachment, Customer, Message } from "../../domain/types.js";
import { attachmentsOf } from "./attachment-rows.js";
import { toCustomer } from "./mappers.js";
import type { Executor } from "./schema.js";
import { writtenMessage } from "./written-rows.js";

// Messages are selected with their sender's username joined in; the customer (the same one
// for a whole page) is then fetched once per batch rather than repeated on every row.

export function selectMessages(db: Executor) {
  return db
    .selectFrom("messages as m")
    .innerJoin("conversations as c", "c.id", "m.conversation_id")
    .leftJoin("users as u", "u.id", "m.sender_id")
    .select([
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
      "c.customer_id",
      "u.username as sender_username",
    ]);
}

export type MessageRow = Awaited<
  ReturnType<ReturnType<typeof selectMessages>["executeTakeFirstOrThrow"]>
>;

function toMessage(row: MessageRow, customer: Customer, attachments: Attachment[]): Message {
  const sender =
    row.sender_id !== null && row.sender_username !== null
      ? { id: row.sender_id, username: row.sender_username }
      : null;
  return writtenMessage(row, customer, sender, attachments);
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
