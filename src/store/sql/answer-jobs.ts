import { randomBytes } from "node:crypto";
import type { Message } from "../../domain/types.js";
import type {
  AnswerClaim,
  AnswerJobStore,
  AnswerOutcome,
  AnswerResult,
  OutboxJob,
} from "../store.js";
import { appendWithin } from "./append.js";
import { lockConversation } from "./conversation-lock.js";
import { loadConversation } from "./conversation-query.js";
import * as lease from "./lease-claim.js";
import type { QueuedOutbox } from "./queued-outbox.js";
import type { Executor, SqlContext } from "./schema.js";

// The durable automatic-answer queue: one row per conversation with an answer pending. A claim
// is a lease with a token of its own; finishing a job checks the token under the conversation
// lock, so a worker whose lease ran out (or whose job was cancelled) can never store an answer,
// and a conversation gets exactly one answer per turn however many processes run.

// Jobs are keyed by conversation: no id to break ties between equally due ones.
const QUEUE: lease.LeaseQueue = { table: "ai_jobs", due: "due_at", tieBreakById: false };

const NOTHING: AnswerResult = {
  applied: false,
  message: null,
  answered: [],
  conversation: undefined,
};

/** The job row if `claim` still holds it; the conversation must be locked by the caller. */
async function heldJob(trx: Executor, claim: AnswerClaim) {
  return trx
    .selectFrom("ai_jobs")
    .select(["trigger_seq", "claimed_seq"])
    .where("conversation_id", "=", claim.conversationId)
    .where("lock_token", "=", claim.token)
    .executeTakeFirst();
}

async function answersEnabled(trx: Executor, conversationId: string): Promise<boolean> {
  const row = await trx
    .selectFrom("conversations as c")
    .innerJoin("ai_settings as s", "s.user_id", "c.owner_id")
    .select("s.enabled")
    .where("c.id", "=", conversationId)
    .executeTakeFirst();
  return row?.enabled === 1;
}

const endJob = (trx: Executor, conversationId: string) =>
  trx.deleteFrom("ai_jobs").where("conversation_id", "=", conversationId).execute();

export class SqlAnswerJobStore implements AnswerJobStore {
  constructor(
    private readonly ctx: SqlContext,
    private readonly outbox: QueuedOutbox,
  ) {}

  async claimDue(now: number, limit: number, leaseMs: number): Promise<AnswerClaim[]> {
    if (limit <= 0) return [];
    return this.ctx.db.transaction().execute(async (trx) => {
      const due = await lease
        .dueForClaim(trx, this.ctx.dialect, QUEUE, now, limit)
        .select(["conversation_id", "attempts"])
        .execute();
      const claims: AnswerClaim[] = [];
      for (const row of due) {
        const token = randomBytes(12).toString("base64url");
        await trx
          .updateTable("ai_jobs")
          .set((eb) => ({
            lock_token: token,
            locked_until: now + leaseMs,
            claimed_seq: eb.ref("trigger_seq"),
            attempts: eb("attempts", "+", 1),
          }))
          .where("conversation_id", "=", row.conversation_id)
          .execute();
        claims.push({ conversationId: row.conversation_id, token, attempts: row.attempts + 1 });
      }
      return claims;
    });
  }

  nextDueAt(): Promise<number | undefined> {
    return lease.nextClaimableAt(this.ctx.db, this.ctx.dialect, QUEUE);
  }

  async complete(claim: AnswerClaim, outcome: AnswerOutcome): Promise<AnswerResult> {
    // The answer's send is noted for the delivery worker only once the transaction committed.
    const queued: { job?: OutboxJob } = {};
    const result = await this.ctx.db.transaction().execute(async (trx) => {
      const locked = await lockConversation(trx, this.ctx.dialect, claim.conversationId);
      if (locked === undefined) return NOTHING;
      const job = await heldJob(trx, claim);
      if (job === undefined) return NOTHING;
      if (locked.status !== "active" || !(await answersEnabled(trx, claim.conversationId))) {
        await endJob(trx, claim.conversationId);
        return NOTHING;
      }
      let message: Message | null = null;
      let answered: Message[] = [];
      if (outcome.text !== null) {
        const appended = await appendWithin(trx, this.ctx.dialect, {
          conversationId: claim.conversationId,
          type: "AI",
          senderId: null,
          content: outcome.text,
          clientId: null,
          deliver: true,
        });
        message = appended.result.message;
        answered = appended.result.answered;
        queued.job = appended.queued;
      }
      if (outcome.handoff) {
        await trx
          .updateTable("conversations")
          .set({ status: "support_active", updated_at: Date.now() })
          .where("id", "=", claim.conversationId)
          .execute();
        await endJob(trx, claim.conversationId);
      } else if (job.claimed_seq !== null && job.trigger_seq > job.claimed_seq) {
        // The customer wrote while the model was being asked: one more answer, which will see
        // it, due when that message's quiet window ends (already set by the ingest).
        await trx
          .updateTable("ai_jobs")
          .set({ lock_token: null, locked_until: null, claimed_seq: null, attempts: 0 })
          .where("conversation_id", "=", claim.conversationId)
          .execute();
      } else {
        await endJob(trx, claim.conversationId);
      }
      return {
        applied: true,
        message,
        answered,
        conversation: await loadConversation(trx, claim.conversationId),
      };
    });
    if (queued.job !== undefined) this.outbox.note(queued.job);
    return result;
  }

  giveUp(claim: AnswerClaim): Promise<AnswerResult> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const locked = await lockConversation(trx, this.ctx.dialect, claim.conversationId);
      if (locked === undefined) return NOTHING;
      if ((await heldJob(trx, claim)) === undefined) return NOTHING;
      await endJob(trx, claim.conversationId);
      if (locked.status !== "active") return NOTHING;
      await trx
        .updateTable("conversations")
        .set({ status: "support_active", updated_at: Date.now() })
        .where("id", "=", claim.conversationId)
        .execute();
      return {
        applied: true,
        message: null,
        answered: [],
        conversation: await loadConversation(trx, claim.conversationId),
      };
    });
  }

  async drop(claim: AnswerClaim): Promise<void> {
    await this.ctx.db
      .deleteFrom("ai_jobs")
      .where("conversation_id", "=", claim.conversationId)
      .where("lock_token", "=", claim.token)
      .execute();
  }

  async release(claim: AnswerClaim): Promise<void> {
    await this.ctx.db
      .updateTable("ai_jobs")
      .set((eb) => ({
        lock_token: null,
        locked_until: null,
        claimed_seq: null,
        attempts: eb("attempts", "-", 1),
      }))
      .where("conversation_id", "=", claim.conversationId)
      .where("lock_token", "=", claim.token)
      .execute();
  }

  async countAnswersSince(conversationId: string, since: number): Promise<number> {
    const row = await this.ctx.db
      .selectFrom("messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("conversation_id", "=", conversationId)
      .where("type", "=", "AI")
      .where("created_at", ">=", since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
