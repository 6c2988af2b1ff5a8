// The codes are the wire's (client/wire.ts), so server and SDK cannot disagree on them.
import { Close, type CloseCode } from "../../client/wire.js";
import { AppError } from "../errors.js";

export { Close, type CloseCode };

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
