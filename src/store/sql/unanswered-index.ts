import { type Kysely, type Migration, sql } from "kysely";

// An agent's or the model's reply marks the customer's earlier messages answered. Through the
// (conversation_id, seq) key that update walked every earlier message of the conversation, a
// cost that grew with its history (160 µs per reply at 2,000 messages). This partial index
// holds only the customer messages still unanswered, so the update reads just those. The
// query spells the index's conditions as literals (append.ts): both stores then use it
// without re-planning per call.
export function unansweredIndex(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`create index messages_unanswered_idx on messages (conversation_id, seq)
        where type = 'customer' and is_answered = 0`.execute(db);
    },
  };
}
