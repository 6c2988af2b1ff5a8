import { AppError } from "../errors.js";

/** Every close code the server uses (protocol.md section 6). */
export const Close = {
  GoingAway: 1001,
  Policy: 1008,
  TooBig: 1009,
  Internal: 1011,
  Unauthorized: 4001,
  Forbidden: 4003,
} as const;

export type CloseCode = (typeof Close)[keyof typeof Close];

export const CloseReason: Record<CloseCode, string> = {
  [Close.GoingAway]: "server going away",
  [Close.Policy]: "policy violation",
  [Close.TooBig]: "message too big",
  [Close.Internal]: "internal error",
  [Close.Unauthorized]: "unauthorized",
  [Close.Forbidden]: "forbidden",
};

/** The close code for an error raised while a socket connects. */
export function closeCodeFor(err: unknown): CloseCode {
  if (!(err instanceof AppError)) return Close.Internal;
  if (err.status === 401) return Close.Unauthorized;
  if (err.status === 403 || err.status === 404) return Close.Forbidden;
  if (err.status === 429) return Close.Policy;
  return Close.Internal;
}

/** The close reason: the error's own code for a limit (`too_many_connections`), else the code's. */
export function closeReasonFor(err: unknown, code: CloseCode): string {
  if (err instanceof AppError && err.status === 429) return err.code;
  return CloseReason[code];
}
