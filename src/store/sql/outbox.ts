import type { Attachment, DeliveryStatus, Message } from "../../domain/types.js";
import { NotFoundError } from "../../errors.js";
import type { OutboxJob, OutboxStore } from "../store.js";
import { attachmentsOf } from "./attachment-rows.js";
import * as lease from "./lease-claim.js";
import { JOINED_CUSTOMER_FIELDS, joinedCustomer } from "./mappers.js";
import { rowSender, selectMessages } from "./message-query.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { QueuedOutbox } from "./queued-outbox.js";
import type { Executor, SqlContext } from "./schema.js";
import { writtenMessage } from "./written-rows.js";

// The delivery queue. A row is a pending send; it is deleted when its message ends `sent` or
// `failed`, so every row seen here is pending. A claim is a lease (locked_until): a worker
// that dies mid-send leaves the job to be claimed again when the lease runs out.

const QUEUE: lease.LeaseQueue = { table: "outbox", due: "next_attempt_at", tieBreakById: true };

async function loadJobs(trx: Executor, ids: number[]): Promise<OutboxJob[]> {
  const rows = await trx
    .selectFrom("outbox as o")
    .innerJoin("messages as m", "m.id", "o.message_id")
    .innerJoin("conversations as c", "c.id", "m.conversation_id")
    .innerJoin("customers as cu", "cu.id", "c.customer_id")
    .select([
      "o.id",
      "o.message_id",
      "o.channel_id",
      "o.attempts",
      "o.step",
      "o.caption",
      "m.content",
      "cu.external_id as recipient",
    ])
    .where("o.id", "in", ids)
    .orderBy("o.next_attempt_at")
    .orderBy("o.id")
    .execute();
  const attachments = await attachmentsOf(
    trx,
    rows.map((r) => r.message_id),
  );
  return rows.map((r) => ({
    id: r.id,
    messageId: r.message_id,
    channelId: r.channel_id,
    recipientExternalId: r.recipient,
    content: r.content,
    attempts: r.attempts,
    attachments: attachments.get(r.message_id) ?? [],
    caption: r.caption,
    step: r.step,
  }));
}

// A claim by id, under the same conditions as the search (due, and not leased by anyone): of
// two claims of one row, in any process, one changes it and the other finds it taken.
const claimById = new PreparedQuery((db) =>
  db
    .updateTable("outbox")
    .set({ locked_until: arg<number>(0) })
    .where("id", "=", arg<number>(1))
    .where("next_attempt_at", "<=", arg<number>(2))
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", arg<number>(2))]))
    .returning(["attempts", "step"]),
);

// Ending a job, in one transaction: the row leaves the queue, the message takes its status.
const deleteJob = new PreparedQuery((db) =>
  db.deleteFrom("outbox").where("id", "=", arg<number>(0)).returning("message_id"),
);
const setDeliveryStatus = new PreparedQuery((db) =>
  db
    .updateTable("messages")
    .set({
      delivery_status: arg<DeliveryStatus>(0),
      delivery_error: arg<string | null>(1),
      updated_at: arg<number>(2),
    })
    .where("id", "=", arg<string>(3)),
);
/** The message with its sender and its customer, for the `message_updated` that follows. */
const messageWithCustomer = new PreparedQuery((db) =>
  selectMessages(db)
    .innerJoin("customers as cu", "cu.id", "c.customer_id")
    .select(JOINED_CUSTOMER_FIELDS)
    .where("m.id", "=", arg<string>(0)),
);

export class SqlOutboxStore implements OutboxStore {
  constructor(
    private readonly ctx: SqlContext,
    private readonly queued: QueuedOutbox,
  ) {}

  async claimDue(now: number, limit: number, leaseMs: number): Promise<OutboxJob[]> {
    if (limit <= 0) return [];
    return this.ctx.db.transaction().execute(async (trx) => {
      const due = await lease
        .dueForClaim(trx, this.ctx.dialect, QUEUE, now, limit)
        .select("id")
        .execute();
      if (due.length === 0) return [];
      const ids = due.map((r) => r.id);
      await lease.leaseRows(trx, "outbox", ids, now + leaseMs);
      this.queued.forget(ids);
      return loadJobs(trx, ids);
    });
  }

  async claimQueued(now: number, limit: number, leaseMs: number): Promise<OutboxJob[] | undefined> {
    if (limit <= 0) return [];
    const noted = this.queued.take(limit);
    if (noted === undefined) return undefined;
    const { db, dialect } = this.ctx;
    const claimed: OutboxJob[] = [];
    // One row is one statement; several share a transaction, so they cost one commit.
    const claimAll = async (executor: Executor) => {
      for (const job of noted) {
        const row = await claimById.executeTakeFirst(executor, dialect, now + leaseMs, job.id, now);
        if (row !== undefined) claimed.push({ ...job, attempts: row.attempts, step: row.step });
      }
    };
    if (noted.length === 1) await claimAll(db);
    else await db.transaction().execute(claimAll);
    return claimed;
  }

  markSent(jobId: number, attachments?: Attachment[]): Promise<Message> {
    return this.finish(jobId, "sent", null, attachments);
  }

  markFailed(jobId: number, error: string, attachments?: Attachment[]): Promise<Message> {
    return this.finish(jobId, "failed", error, attachments);
  }

  markRetry(jobId: number, nextAttemptAt: number, error: string): Promise<void> {
    return lease.releaseForRetry(this.ctx.db, "outbox", jobId, nextAttemptAt, error);
  }

  /** The earliest time a pending job can be claimed (just after its lease, while one is held). */
  nextDueAt(): Promise<number | undefined> {
    return lease.nextClaimableAt(this.ctx.db, this.ctx.dialect, QUEUE);
  }

  async markStep(jobId: number, step: number): Promise<void> {
    await this.ctx.db.updateTable("outbox").set({ step }).where("id", "=", jobId).execute();
  }

  /** Every row is a pending send (finished ones are deleted), so this is the queue length. */
  async countPending(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom("outbox")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Ends a job: the message takes its final delivery status and the row leaves the queue.
   * `attachments` are the job's, as claimed (an outgoing message's files never change); without
   * them they are read.
   */
  private async finish(
    jobId: number,
    status: DeliveryStatus,
    error: string | null,
    attachments: Attachment[] | undefined,
  ): Promise<Message> {
    const { db, dialect } = this.ctx;
    return db.transaction().execute(async (trx) => {
      const job = await deleteJob.executeTakeFirst(trx, dialect, jobId);
      if (job === undefined) throw new NotFoundError("Outbox job not found");
      await setDeliveryStatus.execute(trx, dialect, status, error, Date.now(), job.message_id);
      const row = await messageWithCustomer.executeTakeFirst(trx, dialect, job.message_id);
      if (row === undefined) throw new Error(`Message ${job.message_id} missing`);
      const customer = joinedCustomer(row);
      const files = attachments ?? (await attachmentsOf(trx, [row.id])).get(row.id) ?? [];
      return writtenMessage(row, customer, rowSender(row), files);
    });
  }
}
