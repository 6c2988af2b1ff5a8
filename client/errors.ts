import type { ApiErrorBody } from "./wire.js";

/**
 * A REST call that did not succeed: the HTTP status and the server's `{error, code}`.
 * `status` is 0 when the server could not be reached (`code: "network_error"`).
 */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Builds the error from a server answer body, whatever its shape. */
  static fromBody(status: number, body: unknown): ApiError {
    if (isErrorBody(body)) return new ApiError(status, body.code, body.error);
    return new ApiError(status, "http_error", `HTTP ${status}`);
  }
}

function isErrorBody(body: unknown): body is ApiErrorBody {
  if (typeof body !== "object" || body === null) return false;
  const { error, code } = body as Record<string, unknown>;
  return typeof error === "string" && typeof code === "string";
}

/** Thrown by calls that need a signed-in user when there is none (or no longer). */
export class SignedOutError extends ApiError {
  constructor() {
    super(401, "signed_out", "Not signed in");
  }
}
