// Errors with stable codes. HTTP answers and socket close codes are derived from them in
// exactly one place each (`http/error-handler.ts`, `realtime/close-codes.ts`).

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("invalid", 400, message, options);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "Unauthorized", options?: { cause?: unknown }) {
    super("unauthorized", 401, message, options);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "Forbidden", code = "forbidden") {
    super(code, 403, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = "Not found") {
    super("not_found", 404, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("conflict", 409, message, options);
  }
}

/** A platform (Telegram, Instagram) refused a request or could not be reached. */
export class PlatformError extends AppError {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** Seconds the platform asked us to wait (Telegram `retry_after`). */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown; outcomeUnknown?: boolean },
  ) {
    super("platform_error", 502, message, options);
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }

  /**
   * The request went out but no answer came back (a timeout): the platform may have acted on
   * it. Safe to repeat for reads; a send repeated here could reach the customer twice.
   */
  readonly outcomeUnknown: boolean;
}

/** An abuse limit was reached; the HTTP answer carries `Retry-After`. */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    /** Whole seconds until the limit lets the caller in again (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super("rate_limited", 429, message);
  }
}

/** A socket over the user's open-socket or new-socket limit: closed with 1008. */
export class TooManyConnectionsError extends AppError {
  constructor(message = "Too many connections") {
    super("too_many_connections", 429, message);
  }
}
