import type { Conversation } from "../../domain/types.js";
import { JOINED_CUSTOMER_COLUMNS, joinedCustomer } from "./mappers.js";
import type { Executor } from "./schema.js";

// One query yields whole Conversation objects: the customer is joined, and so is the last
// message (seq = last_seq, found through the unique (conversation_id, seq) index). Lists,
// lookups and the results of writes all go through here, so there are no per-row queries.

/** The columns every conversation query selects, named as `toConversation` reads them. */
export const CONVERSATION_COLUMNS = [
  "c.id",
  "c.owner_id",
  "c.channel_id",
  "c.title",
  "c.status",
  "c.source",
  "c.priority",
  "c.last_seq",
  "c.unread_count",
  "c.created_at",
  "c.updated_at",
  ...JOINED_CUSTOMER_COLUMNS,
  "m.id as last_message_id",
  "m.content as last_message_content",
  "m.type as last_message_type",
  "m.created_at as last_message_created_at",
] as const;

export function selectConversations(db: Executor) {
  return db
    .selectFrom("conversations as c")
    .innerJoin("customers as cu", "cu.id", "c.customer_id")
    .leftJoin("messages as m", (join) =>
      join.onRef("m.conversation_id", "=", "c.id").onRef("m.seq", "=", "c.last_seq"),
    )
    .select(CONVERSATION_COLUMNS);
}

export type ConversationRow = Awaited<
  ReturnType<ReturnType<typeof selectConversations>["executeTakeFirstOrThrow"]>
>;

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    ownerId: row.owner_id,
    channelId: row.channel_id,
    title: row.title,
    status: row.status,
    source: row.source,
    customer: joinedCustomer(row),
    priority: row.priority,
    lastSeq: row.last_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastMessage:
      row.last_message_id === null ||
      row.last_message_content === null ||
      row.last_message_type === null ||
      row.last_message_created_at === null
        ? null
        : {
            id: row.last_message_id,
            content: row.last_message_content,
            type: row.last_message_type,
            createdAt: row.last_message_created_at,
          },
    unreadCount: row.unread_count,
  };
}

export async function findConversation(
  db: Executor,
  id: string,
): Promise<Conversation | undefined> {
  const row = await selectConversations(db).where("c.id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toConversation(row);
}

/** For results of writes made in the same transaction: the row is known to exist. */
export async function loadConversation(db: Executor, id: string): Promise<Conversation> {
  return toConversation(
    await selectConversations(db).where("c.id", "=", id).executeTakeFirstOrThrow(),
  );
}
