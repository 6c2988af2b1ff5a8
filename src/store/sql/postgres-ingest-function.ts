import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "./schema.js";

// PostgreSQL: the common webhook (a known customer writing into an existing conversation) in
// one round trip. Stored through the general path, a message took seven: BEGIN, the customer
// with its conversation, the lock, the duplicate check, the seq, the insert, COMMIT; in a
// two-process run the pg client's share of that was a fifth of the processes' CPU, and every
// round trip wakes PostgreSQL's backend as well. The function does the same steps in the same
// order in one statement, which is its own transaction.
//
// The steps, per message and in the order given (the caller sorts by conversation key, as the
// general path does, so that concurrent callers take their locks in one order):
// - not eligible (it carries media), or an earlier message of its conversation in this call
//   was not handled here: `unhandled`, and so are the later ones of that conversation, which
//   keeps them behind it; the caller stores them through the general path, in order;
// - the customer by (owner, platform, id) and their conversation in this channel; either
//   missing (a first message): `unhandled`;
// - the conversation row locked (FOR UPDATE), then the platform id looked for among its
//   messages. In READ COMMITTED a function's statement takes a fresh snapshot, so the check
//   runs after the lock's wait and sees a concurrent writer's message: `duplicate`;
// - the next seq taken (a closed conversation reopens as support_active), the message
//   inserted, the answer job moved on when automatic answers are on and the conversation is
//   `active`: `stored`, with the customer and the conversation rows as JSON.
//
// The search path is fixed at creation, so that the function's tables are those of the schema
// it was created in, whatever the caller's path.
const CREATE_FUNCTION = sql`
create function fiko_ingest_known(
  owner_ids integer[], sources text[], customer_ids text[], channel_ids text[],
  eligible boolean[], message_ids text[], external_ids text[], contents text[],
  created_ats bigint[], reply_delays bigint[], now_ms bigint
) returns setof json
language plpgsql
set search_path from current
as $$
declare
  skipped text[] := '{}';
  conversation_key text;
  known_customer customers;
  locked_id text;
  locked_status text;
  existing_id text;
  updated conversations;
  scheduled boolean;
begin
  for i in 1 .. coalesce(array_length(message_ids, 1), 0) loop
    conversation_key := json_build_array(channel_ids[i], customer_ids[i])::text;
    locked_id := null;
    if eligible[i] and not (conversation_key = any(skipped)) then
      select * into known_customer from customers
        where owner_id = owner_ids[i] and source = sources[i] and external_id = customer_ids[i];
      if found then
        select id, status into locked_id, locked_status from conversations
          where channel_id = channel_ids[i] and customer_id = known_customer.id
          for update;
      end if;
    end if;
    if locked_id is null then
      skipped := skipped || conversation_key;
      return next json_build_object('position', i, 'outcome', 'unhandled');
      continue;
    end if;

    select id into existing_id from messages
      where conversation_id = locked_id and external_id = external_ids[i];
    if found then
      return next json_build_object(
        'position', i, 'outcome', 'duplicate',
        'messageId', existing_id, 'conversationId', locked_id);
      continue;
    end if;

    update conversations set
      last_seq = last_seq + 1,
      unread_count = unread_count + 1,
      updated_at = now_ms,
      status = case when locked_status = 'closed' then 'support_active' else locked_status end
      where id = locked_id
      returning * into updated;
    insert into messages (id, conversation_id, seq, type, content, sender_id, is_ai_response,
        is_answered, delivery_status, external_id, created_at, updated_at)
      values (message_ids[i], locked_id, updated.last_seq, 'customer', contents[i], null, 0,
        0, 'received', external_ids[i], created_ats[i], now_ms);
    scheduled := reply_delays[i] is not null and updated.status = 'active'
      and exists (select 1 from ai_settings where user_id = owner_ids[i] and enabled = 1);
    if scheduled then
      insert into ai_jobs (conversation_id, due_at, trigger_seq, created_at)
        values (locked_id, now_ms + reply_delays[i], updated.last_seq, now_ms)
        on conflict (conversation_id) do update
          set due_at = excluded.due_at, trigger_seq = excluded.trigger_seq;
    end if;
    return next json_build_object(
      'position', i, 'outcome', 'stored', 'answerScheduled', scheduled,
      'customer', row_to_json(known_customer), 'conversation', row_to_json(updated));
  end loop;
end
$$`;

/** The migration that creates the function on PostgreSQL; SQLite stores through the general path. */
export function postgresIngestFunction(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === "postgres") await CREATE_FUNCTION.execute(db);
    },
  };
}
