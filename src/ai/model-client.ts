import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { AiConfig } from "../config.js";
import { HANDOFF_TOOL, HANDOFF_TOOL_NAME } from "./prompt.js";

// One Chat Completions call per answer, to any OpenAI-compatible server (OpenAI, Ollama, vLLM,
// llama.cpp) through the official client with our own retry policy (protocol.md section 11): a
// timeout, a network error, 5xx or 429 is tried at most twice more; any other error is final.
// The key goes into the Authorization header only: errors are described by status, never by
// the server's text (which may quote the key) or the request.

/** What the model said: text for the customer and/or a request for a person. */
export interface ModelAnswer {
  text: string | null;
  handoff: boolean;
  handoffReason: string | null;
}

export class ModelError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** Seconds the server asked us to wait (`Retry-After` on a 429). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ModelError";
  }
}

/** Tries after the first one. */
export const MODEL_RETRIES = 2;
const DEFAULT_RETRY_PAUSES_MS = [500, 1500];
/** A `Retry-After` longer than this is not waited for: the customer would wait too long. */
const MAX_RETRY_AFTER_SECONDS = 10;

export interface ModelClientOptions {
  /** Pauses before the second and third try; tests shorten them. */
  retryPausesMs?: readonly number[];
  /** Called before each retry, for the log. */
  onRetry?: (error: ModelError, attempt: number) => void;
}

export class ModelClient {
  private readonly client: OpenAI;
  private readonly retryPausesMs: readonly number[];

  constructor(
    private readonly config: AiConfig,
    private readonly options: ModelClientOptions = {},
  ) {
    this.retryPausesMs = options.retryPausesMs ?? DEFAULT_RETRY_PAUSES_MS;
    this.client = new OpenAI({
      baseURL: config.baseUrl,
      // The client insists on a key; a local server without one gets no Authorization header.
      apiKey: config.apiKey ?? "unused",
      ...(config.apiKey === undefined && { defaultHeaders: { Authorization: null } }),
      // Everything the client would otherwise take from OPENAI_* variables is fixed here: the
      // configuration is read in config.ts only.
      organization: null,
      project: null,
      webhookSecret: null,
      timeout: config.timeoutMs,
      maxRetries: 0,
      logLevel: "off",
    });
  }

  /** Asks for one answer; throws `ModelError` once the tries are used up. */
  async answer(messages: ChatCompletionMessageParam[], signal?: AbortSignal): Promise<ModelAnswer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(messages, signal);
      } catch (err) {
        const error = modelError(err);
        if (!error.retryable || attempt > MODEL_RETRIES || signal?.aborted) throw error;
        this.options.onRetry?.(error, attempt);
        const pause =
          error.retryAfterSeconds !== undefined &&
          error.retryAfterSeconds <= MAX_RETRY_AFTER_SECONDS
            ? error.retryAfterSeconds * 1000
            : (this.retryPausesMs[attempt - 1] ?? 1000);
        await sleep(pause, signal);
      }
    }
  }

  private async once(
    messages: ChatCompletionMessageParam[],
    signal: AbortSignal | undefined,
  ): Promise<ModelAnswer> {
    const completion = await this.client.chat.completions.create(
      { model: this.config.model, messages, tools: [HANDOFF_TOOL] },
      { signal },
    );
    const message = completion.choices?.[0]?.message;
    if (!message) throw new ModelError("The model sent no answer", false);
    let handoff = false;
    let handoffReason: string | null = null;
    for (const call of message.tool_calls ?? []) {
      if (call.type !== "function" || call.function.name !== HANDOFF_TOOL_NAME) continue;
      handoff = true;
      handoffReason = reasonOf(call.function.arguments);
    }
    const text = typeof message.content === "string" ? message.content : null;
    return { text, handoff, handoffReason };
  }
}

function reasonOf(args: string): string | null {
  try {
    const parsed: unknown = JSON.parse(args);
    if (typeof parsed === "object" && parsed !== null && "reason" in parsed) {
      return typeof parsed.reason === "string" ? parsed.reason.slice(0, 500) : null;
    }
  } catch {
    // Small models send broken JSON now and then; the handoff stands without a reason.
  }
  return null;
}

/** Sorts a failure into retryable or final, with a message safe to log. */
export function modelError(err: unknown): ModelError {
  if (err instanceof ModelError) return err;
  if (err instanceof APIUserAbortError) return new ModelError("The request was cancelled", false);
  // Timeouts (APIConnectionTimeoutError) are connection errors too.
  if (err instanceof APIConnectionError) {
    const timedOut = err.name === "APIConnectionTimeoutError" || /timed? ?out/i.test(err.message);
    return new ModelError(
      timedOut ? "The model did not answer in time" : "Could not reach the model",
      true,
    );
  }
  if (err instanceof APIError && typeof err.status === "number") {
    const status = err.status;
    if (status === 429) {
      const after = Number(err.headers?.get("retry-after"));
      return new ModelError(
        "The model server is rate limiting (HTTP 429)",
        true,
        Number.isFinite(after) && after >= 0 ? after : undefined,
      );
    }
    return new ModelError(`The model server answered HTTP ${status}`, status >= 500);
  }
  return new ModelError("The model's answer could not be read", false);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
