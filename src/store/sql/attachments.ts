import type { Message, PlatformFileRef } from "../../domain/types.js";
import type { AttachmentRecord, AttachmentStore, MediaJob } from "../store.js";
import { toAttachment } from "./attachment-rows.js";
import { findMessage } from "./message-query.js";
import type { SqlContext } from "./schema.js";

// Attachments after their message was stored: serving needs the owner, the download job moves a
// file from `pending` to `stored` or `unavailable`. Jobs are leased exactly like the outbox, so
// several processes share them and a crashed one's downloads are taken over.

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
      const due = await trx
        .selectFrom("media_jobs")
        .select(["id", "attachment_id", "channel_id", "attempts"])
        .where("next_attempt_at", "<=", now)
        .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", now)]))
        .orderBy("next_attempt_at")
        .orderBy("id")
        .limit(limit)
        // As in the outbox: PostgreSQL skips rows another worker is claiming right now.
        .$if(this.ctx.dialect === "postgres", (q) => q.forUpdate().skipLocked())
        .execute();
      if (due.length === 0) return [];
      await trx
        .updateTable("media_jobs")
        .set({ locked_until: now + leaseMs })
        .where(
          "id",
          "in",
          due.map((r) => r.id),
        )
        .execute();
      return due.map((r) => ({
        id: r.id,
        attachmentId: r.attachment_id,
        channelId: r.channel_id,
        attempts: r.attempts,
      }));
    });
  }

  async markRetry(jobId: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.ctx.db
      .updateTable("media_jobs")
      .set((eb) => ({
        attempts: eb("attempts", "+", 1),
        next_attempt_at: nextAttemptAt,
        locked_until: null,
        last_error: error,
      }))
      .where("id", "=", jobId)
      .execute();
  }

  /** The earliest moment a job can be claimed (just after a lease, while one is held). */
  async nextDueAt(): Promise<number | undefined> {
    const row = await this.ctx.db
      .selectFrom("media_jobs")
      .select((eb) =>
        eb.fn
          .min(
            eb
              .case()
              .when(
                eb.and([
                  eb("locked_until", "is not", null),
                  eb("locked_until", ">=", eb.ref("next_attempt_at")),
                ]),
              )
              .then(eb("locked_until", "+", 1))
              .else(eb.ref("next_attempt_at"))
              .end(),
          )
          .as("due"),
      )
      .executeTakeFirst();
    return row?.due ?? undefined;
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
