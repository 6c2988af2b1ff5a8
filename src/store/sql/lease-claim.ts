import { PreparedQuery } from "./prepared-query.js";
import type { DialectName, Executor } from "./schema.js";

// The lease queries shared by the job tables (outbox, media_jobs, ai_jobs). A row is due once
// its due column has passed; claiming it sets `locked_until`, and a row whose lease has run out
// (its worker died) is due again. Each store keeps what differs: the columns it reads, how it
// marks its claim (the answer jobs add a token) and how a job ends.

/** A job table, the column saying when a row is due, and whether ties go to the oldest id. */
export type LeaseQueue =
  | { table: "outbox"; due: "next_attempt_at"; tieBreakById: true }
  | { table: "media_jobs"; due: "next_attempt_at"; tieBreakById: true }
  | { table: "ai_jobs"; due: "due_at"; tieBreakById: false };

/** The tables whose rows are retried with an attempt count and a last error. */
export type RetryTable = "outbox" | "media_jobs";

/**
 * Selects up to `limit` claimable rows, earliest due first, inside the caller's transaction;
 * the caller adds the columns it needs and then leases the rows it got. The builder is typed
 * over all three tables, so a column of the wrong one still compiles: the store suites (both
 * databases) are what check each store's column list.
 */
export function dueForClaim(
  trx: Executor,
  dialect: DialectName,
  queue: LeaseQueue,
  now: number,
  limit: number,
) {
  return (
    trx
      .selectFrom(queue.table)
      .where(queue.due, "<=", now)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", now)]))
      .orderBy(queue.due)
      .$if(queue.tieBreakById, (q) => q.orderBy("id"))
      .limit(limit)
      // PostgreSQL: rows another worker is claiming right now are skipped, not waited for,
      // and never handed out twice. SQLite: the transaction holds the only write lock.
      .$if(dialect === "postgres", (q) => q.forUpdate().skipLocked())
  );
}

/** Leases rows by id until `until`; a worker still holding them then is presumed dead. */
export async function leaseRows(
  trx: Executor,
  table: RetryTable,
  ids: number[],
  until: number,
): Promise<void> {
  await trx.updateTable(table).set({ locked_until: until }).where("id", "in", ids).execute();
}

/** Hands a job back after a failed attempt: counted, released and due again at `dueAt`. */
export async function releaseForRetry(
  db: Executor,
  table: RetryTable,
  jobId: number,
  dueAt: number,
  error: string,
): Promise<void> {
  await db
    .updateTable(table)
    .set((eb) => ({
      attempts: eb("attempts", "+", 1),
      next_attempt_at: dueAt,
      locked_until: null,
      last_error: error,
    }))
    .where("id", "=", jobId)
    .execute();
}

const nextClaimable = (queue: LeaseQueue) =>
  new PreparedQuery((db) =>
    db.selectFrom(queue.table).select((eb) =>
      eb.fn
        .min(
          eb
            .case()
            .when(
              eb.and([
                eb("locked_until", "is not", null),
                eb("locked_until", ">=", eb.ref(queue.due)),
              ]),
            )
            .then(eb("locked_until", "+", 1))
            .else(eb.ref(queue.due))
            .end(),
        )
        .as("due"),
    ),
  );

// Asked by every idle worker at every wake-up, so compiled once per table.
const nextClaimableByTable = new Map<LeaseQueue["table"], ReturnType<typeof nextClaimable>>();

/**
 * The earliest time a row can be claimed: its due time, or, while it is leased, just after
 * the lease. Counting leased rows as due "now" would make an idle worker spin while another
 * one is still working.
 */
export async function nextClaimableAt(
  db: Executor,
  dialect: DialectName,
  queue: LeaseQueue,
): Promise<number | undefined> {
  let prepared = nextClaimableByTable.get(queue.table);
  if (prepared === undefined) {
    prepared = nextClaimable(queue);
    nextClaimableByTable.set(queue.table, prepared);
  }
  const row = await prepared.executeTakeFirst(db, dialect);
  return row?.due ?? undefined;
}
