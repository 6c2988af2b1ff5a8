import type { Message, PlatformFileRef } from "../../domain/types.js";
import type { AttachmentRecord, AttachmentStore, MediaJob } from "../store.js";
import { toAttachment } from "./attachment-rows.js";
import * as lease from "./lease-claim.js";
import { findMessage } from "./message-query.js";
import type { SqlContext } from "./schema.js";

// Attachments after their message was stored: serving needs the owner, the download job moves a
// file from `pending` to `stored` or `unavailable`. Jobs are leased exactly like the outbox, so
// several processes share them and a crashed one's downloads are taken over.

const QUEUE: lease.LeaseQueue = { table: "media_jobs", due: "next_attempt_at", tieBreakById: true };

export class SqlAttachmentStore implements AttachmentStore {
  constructor(private readonly ctx: SqlContext) {}

  async findById(id: string): Promise<AttachmentRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom("attachments as a")
      .innerJoin("messages as m", "m.id", "a.message_id")
      .innerJoin("conversations as c", "c.id", "m.conversation_id")
      .selectAll("a")
      .select(["m.conversation_id", "c.owner_id", "c.channel_id"])
      .where("a.id", "=", id)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      attachment: toAttachment(row),
      messageId: row.message_id,
      conversationId: row.conversation_id,
      ownerId: row.owner_id,
      ref: row.platform_ref === null ? null : (JSON.parse(row.platform_ref) as PlatformFileRef),
      channelId: row.channel_id,
    };
  }

  markStored(id: string, file: { size: number; mimeType: string }): Promise<Message | undefined> {
    return this.finish(id, { state: "stored", size: file.size, mime_type: file.mimeType });
  }

  markUnavailable(id: string): Promise<Message | undefined> {
    return this.finish(id, { state: "unavailable" });
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<MediaJob[]> {
    if (limit <= 0) return [];
    return this.ctx.db.transaction().execute(async (trx) => {
      const due = await lease
        .dueForClaim(trx, this.ctx.dialect, QUEUE, now, limit)
        .select(["id", "attachment_id", "channel_id", "attempts"])
        .execute();
      if (due.length === 0) return [];
      await lease.leaseRows(
        trx,
        "media_jobs",
        due.map((r) => r.id),
        now + leaseMs,
      );
      return due.map((r) => ({
        id: r.id,
        attachmentId: r.attachment_id,
        channelId: r.channel_id,
        attempts: r.attempts,
      }));
    });
  }

  markRetry(jobId: number, nextAttemptAt: number, error: string): Promise<void> {
    return lease.releaseForRetry(this.ctx.db, "media_jobs", jobId, nextAttemptAt, error);
  }

  /** The earliest moment a job can be claimed (just after a lease, while one is held). */
  nextDueAt(): Promise<number | undefined> {
    return lease.nextClaimableAt(this.ctx.db, this.ctx.dialect, QUEUE);
  }

  /**
   * Ends a pending file: one transaction sets its state and deletes its job. Only a `pending`
   * row changes, so a download finished twice (two processes, the job and an on-demand fetch)
   * reports the change once: the second call answers undefined.
   */
  private async finish(
    id: string,
    changes: { state: "stored" | "unavailable"; size?: number; mime_type?: string },
  ): Promise<Message | undefined> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("attachments")
        .set(changes)
        .where("id", "=", id)
        .where("state", "=", "pending")
        .returning("message_id")
        .executeTakeFirst();
      await trx.deleteFrom("media_jobs").where("attachment_id", "=", id).execute();
      if (row === undefined) return undefined;
      await trx
        .updateTable("messages")
        .set({ updated_at: Date.now() })
        .where("id", "=", row.message_id)
        .execute();
      return findMessage(trx, row.message_id);
    });
  }
}
