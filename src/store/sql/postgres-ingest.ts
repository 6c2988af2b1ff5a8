import { type Selectable, sql } from "kysely";
import { newMessageId } from "../../domain/ids.js";
import type { IngestResult } from "../store.js";
import { loadConversation } from "./conversation-query.js";
import { settle } from "./group-commit.js";
import type { IngestRequest } from "./ingest.js";
import { toCustomer } from "./mappers.js";
import { loadMessage } from "./message-query.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { ConversationsTable, CustomersTable, SqlContext } from "./schema.js";
import { inboundMessageRow, writtenConversation, writtenMessage } from "./written-rows.js";

// The caller's side of `fiko_ingest_known` (postgres-ingest-function.ts): a batch of customer
// messages in one round trip, where each is a known customer's message into an existing
// conversation; the others are left to the general path.

/** What the function says of one message, at its 1-based `position` in the call. */
type KnownIngestRow =
  | { position: number; outcome: "unhandled" }
  | { position: number; outcome: "duplicate"; messageId: string; conversationId: string }
  | {
      position: number;
      outcome: "stored";
      answerScheduled: boolean;
      customer: Selectable<CustomersTable>;
      conversation: Selectable<ConversationsTable>;
    };

const callFunction = new PreparedQuery((db) => ({
  compile: () =>
    sql<{ result: KnownIngestRow }>`select fiko_ingest_known(
      ${arg<number[]>(0)}::integer[], ${arg<string[]>(1)}::text[], ${arg<string[]>(2)}::text[],
      ${arg<string[]>(3)}::text[], ${arg<boolean[]>(4)}::boolean[], ${arg<string[]>(5)}::text[],
      ${arg<string[]>(6)}::text[], ${arg<string[]>(7)}::text[], ${arg<number[]>(8)}::bigint[],
      ${arg<(number | null)[]>(9)}::bigint[], ${arg<number>(10)}::bigint
    ) as result`.compile(db),
}));

/**
 * Stores the messages of known conversations in one statement (its own transaction), in the
 * order given, which must be the general path's lock order. One entry per request: its outcome,
 * or undefined where the general path must store it (after every handled message before it).
 * Throws only when nothing was stored.
 */
export async function ingestKnownConversations(
  ctx: SqlContext,
  requests: readonly IngestRequest[],
): Promise<(PromiseSettledResult<IngestResult> | undefined)[]> {
  const now = Date.now();
  const messageIds = requests.map(() => newMessageId());
  const inbound = requests.map((request) => request.inbound);
  const rows = await callFunction.execute(
    ctx.db,
    ctx.dialect,
    inbound.map((m) => m.ownerId),
    inbound.map((m) => m.source),
    inbound.map((m) => m.customerExternalId),
    inbound.map((m) => m.channelId),
    inbound.map((m) => (m.attachments ?? []).length === 0),
    messageIds,
    inbound.map((m) => m.externalMessageId),
    inbound.map((m) => m.content),
    inbound.map((m) => m.sentAt ?? now),
    requests.map(({ answers }) => answers?.replyDelayMs ?? null),
    now,
  );
  const results: (PromiseSettledResult<IngestResult> | undefined)[] = new Array(
    requests.length,
  ).fill(undefined);
  for (const { result } of rows) {
    const index = result.position - 1;
    const request = requests[index];
    const messageId = messageIds[index];
    if (request === undefined || messageId === undefined) {
      throw new Error(`fiko_ingest_known answered for position ${result.position}`);
    }
    if (result.outcome === "stored") {
      const customer = toCustomer(result.customer);
      const row = inboundMessageRow(messageId, result.conversation, request.inbound, now);
      const message = writtenMessage(row, customer, null, []);
      const conversation = writtenConversation(result.conversation, customer, message);
      results[index] = {
        status: "fulfilled",
        value: {
          duplicate: false,
          message,
          conversation,
          customerCreated: false,
          answerScheduled: result.answerScheduled,
        },
      };
    } else if (result.outcome === "duplicate") {
      // Read after the function committed the others: a failed read fails this message alone.
      results[index] = await settle(storedBefore(ctx, result.messageId, result.conversationId));
    }
  }
  return results;
}

/** A platform retry's answer: nothing changed; it shows what was stored the first time. */
async function storedBefore(
  ctx: SqlContext,
  messageId: string,
  conversationId: string,
): Promise<IngestResult> {
  return {
    duplicate: true,
    message: await loadMessage(ctx.db, messageId),
    conversation: await loadConversation(ctx.db, conversationId),
    customerCreated: false,
    answerScheduled: false,
  };
}
