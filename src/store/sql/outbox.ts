import type { DeliveryStatus, Message } from "../../domain/types.js";
import { NotFoundError } from "../../errors.js";
import type { OutboxJob, OutboxStore } from "../store.js";
import { attachmentsOf } from "./attachment-rows.js";
import * as lease from "./lease-claim.js";
import { loadMessage } from "./message-query.js";
import type { Executor, SqlContext } from "./schema.js";

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

export class SqlOutboxStore implements OutboxStore {
  constructor(private readonly ctx: SqlContext) {}

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
      return loadJobs(trx, ids);
    });
  }

  markSent(jobId: number): Promise<Message> {
    return this.finish(jobId, "sent", null);
  }

  markFailed(jobId: number, error: string): Promise<Message> {
    return this.finish(jobId, "failed", error);
  }

  markRetry(jobId: number, nextAttemptAt: number, error: string): Promise<void> {
    return lease.releaseForRetry(this.ctx.db, "outbox", jobId, nextAttemptAt, error);
  }

  /** The earliest time a pending job can be claimed (just after its lease, while one is held). */
  nextDueAt(): Promise<number | undefined> {
    return lease.nextClaimableAt(this.ctx.db, QUEUE);
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

  /** Ends a job: the message takes its final delivery status and the row leaves the queue. */
  private async finish(
    jobId: number,
    status: DeliveryStatus,
    error: string | null,
  ): Promise<Message> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const job = await trx
        .deleteFrom("outbox")
        .where("id", "=", jobId)
        .returning("message_id")
        .executeTakeFirst();
      if (job === undefined) throw new NotFoundError("Outbox job not found");
      await trx
        .updateTable("messages")
        .set({ delivery_status: status, delivery_error: error, updated_at: Date.now() })
        .where("id", "=", job.message_id)
        .execute();
      return loadMessage(trx, job.message_id);
    });
  }
}
