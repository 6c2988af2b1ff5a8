import type { Logger } from "pino";
import type { AiConfig } from "../config.js";
import type { ChatService } from "../domain/chat-service.js";
import type { Conversation } from "../domain/types.js";
import { LeasedJobWorker } from "../jobs/leased-job-worker.js";
import type { AnswerOutcomeLabel } from "../metrics/metrics.js";
import type { AnswerClaim, Store } from "../store/store.js";
import { MODEL_RETRIES, type ModelClient, ModelError } from "./model-client.js";
import { plainText } from "./plain-text.js";
import { buildMessages } from "./prompt.js";

export interface AnswerWorkerOptions {
  store: Store;
  chat: ChatService;
  model: Pick<ModelClient, "answer">;
  config: AiConfig;
  log: Logger;
  /** Shows the platform's own typing indicator to the customer (Telegram `sendChatAction`). */
  showTyping?: (conversation: Conversation) => Promise<void>;
  /** Counts each turn's outcome and times each model request (`fiko_ai_*` metrics). */
  metrics?: {
    aiAnswer(outcome: AnswerOutcomeLabel): void;
    aiRequest(result: "ok" | "error", seconds: number): void;
  };
  /** Answers asked for at once. */
  concurrency?: number;
  /** Longest sleep without a wake; jobs scheduled by other processes are found this late. */
  maxIdleMs?: number;
}

const HOUR_MS = 3_600_000;
/** A job claimed this often in one turn killed its workers each time: a person takes over. */
const MAX_CLAIMS = 3;
/** Telegram shows "typing…" for about five seconds per call. */
const PLATFORM_TYPING_EVERY_MS = 4_500;
/** Retry pauses and store work on top of the request timeouts (see `leaseFor`). */
const LEASE_MARGIN_MS = 5_000;

/**
 * How long a claimed job stays ours: longer than the worst case of one answer (every try timing
 * out, plus the pauses), so a live worker never loses its job; a dead one's job is taken over
 * once it runs out. A worker that overran anyway cannot store: its claim token is stale.
 */
export const leaseFor = (timeoutMs: number): number =>
  timeoutMs * (MODEL_RETRIES + 1) + LEASE_MARGIN_MS;

/**
 * Runs automatic answers (protocol.md section 11). Jobs are rows written with the customer's
 * message and claimed under a lease, so a restart or several processes neither drop nor double
 * an answer; the answer itself goes through the chat service like an agent's reply.
 */
export class AnswerWorker extends LeasedJobWorker<AnswerClaim> {
  private readonly aborts = new Set<AbortController>();

  constructor(private readonly options: AnswerWorkerOptions) {
    const { log } = options;
    super({
      queue: options.store.answers,
      leaseMs: leaseFor(options.config.timeoutMs),
      concurrency: options.concurrency,
      // Answers are due after a short quiet window: look often, and close to the due time.
      maxIdleMs: options.maxIdleMs ?? 1_000,
      minSleepMs: 10,
      onRunError: (claim, err) => {
        log.error(
          { err, conversation: claim.conversationId },
          "recording an automatic answer failed",
        );
      },
      onClaimError: (err) => log.error({ err }, "claiming answer jobs failed"),
      onNextDueError: (err) => log.error({ err }, "reading answer jobs failed"),
    });
  }

  /** Answers being worked on right now in this process. */
  get busy(): number {
    return this.runner.busy;
  }

  /** Cancels the model requests in flight; their jobs are handed back (`release`) for others. */
  protected override onStopping(): void {
    for (const abort of this.aborts) abort.abort();
  }

  /** Asks the model for one turn's answer and stores it, or hands over to a person. */
  protected async runJob(claim: AnswerClaim): Promise<void> {
    const { store, chat, config, metrics } = this.options;
    const log = this.options.log.child({ conversation: claim.conversationId });
    if (claim.attempts > MAX_CLAIMS) {
      log.warn({ attempts: claim.attempts }, "automatic answer abandoned after repeated crashes");
      await chat.giveUpAnswer(claim);
      metrics?.aiAnswer("failed");
      return;
    }
    const conversation = await store.conversations.findById(claim.conversationId);
    const settings = conversation && (await store.aiSettings.get(conversation.ownerId));
    if (!conversation || !settings || conversation.status !== "active" || !settings.enabled) {
      await store.answers.drop(claim);
      return;
    }
    const answers = await store.answers.countAnswersSince(conversation.id, Date.now() - HOUR_MS);
    if (answers >= config.maxAnswersPerHour) {
      log.warn({ answers }, "hourly answer limit reached; handing over to a person");
      await chat.giveUpAnswer(claim);
      metrics?.aiAnswer("limited");
      return;
    }
    const history = await store.messages.recent(conversation.id, config.historyLimit);
    const prompt = buildMessages(settings.instructions, history.messages);

    const abort = new AbortController();
    this.aborts.add(abort);
    const stopTyping = this.typing(conversation, log);
    let outcome: { text: string | null; handoff: boolean; reason: string | null };
    const started = Date.now();
    try {
      const answer = await this.options.model.answer(prompt, abort.signal);
      metrics?.aiRequest("ok", (Date.now() - started) / 1000);
      const text = answer.text === null ? "" : plainText(answer.text);
      outcome = {
        text: text === "" ? null : text,
        handoff: answer.handoff,
        reason: answer.handoffReason,
      };
    } catch (err) {
      await stopTyping();
      if (abort.signal.aborted) {
        await store.answers.release(claim);
        return;
      }
      metrics?.aiRequest("error", (Date.now() - started) / 1000);
      const reason = err instanceof ModelError ? err.message : "Unexpected error";
      log.warn(
        { reason, ms: Date.now() - started },
        "no automatic answer; handing over to a person",
      );
      await chat.giveUpAnswer(claim);
      metrics?.aiAnswer("failed");
      return;
    } finally {
      this.aborts.delete(abort);
    }
    await stopTyping();
    if (outcome.text === null && !outcome.handoff) {
      log.warn("the model's answer was empty; handing over to a person");
      await chat.giveUpAnswer(claim);
      metrics?.aiAnswer("failed");
      return;
    }
    const result = await chat.completeAnswer(claim, {
      text: outcome.text,
      handoff: outcome.handoff,
    });
    if (!result.applied) {
      log.info("automatic answer discarded: the turn ended before it was stored");
      metrics?.aiAnswer("cancelled");
      return;
    }
    metrics?.aiAnswer(outcome.handoff ? "handoff" : "answered");
    log.info(
      {
        ms: Date.now() - started,
        message: result.message?.id,
        handoff: outcome.handoff,
        ...(outcome.reason !== null && { reason: outcome.reason }),
      },
      outcome.handoff ? "automatic answer handed over to a person" : "automatic answer sent",
    );
  }

  /** Typing indicators on the sockets (and the platform) until the returned stop is called. */
  private typing(conversation: Conversation, log: Logger): () => Promise<void> {
    const { chat, showTyping } = this.options;
    const platform = () => {
      showTyping?.(conversation).catch((err: unknown) => {
        log.debug({ reason: err instanceof Error ? err.message : "error" }, "typing action failed");
      });
    };
    const started = chat.answerTyping(conversation.id, true);
    platform();
    const timer = setInterval(platform, PLATFORM_TYPING_EVERY_MS);
    timer.unref();
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await started;
      await chat.answerTyping(conversation.id, false);
    };
  }
}
