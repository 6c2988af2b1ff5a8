import type { FastifyReply, FastifyRequest } from "fastify";
import type { AccountService } from "../auth/account-service.js";
import type { User } from "../domain/types.js";
import { UnauthorizedError } from "../errors.js";
import type { AbuseLimits } from "../limits/abuse-limits.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by `requireUser`; routes behind it may rely on it. */
    user: User | null;
  }
}

export type RequireUser = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** The token of an `Authorization: Bearer <token>` header, if the header is one. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/**
 * A preHandler that accepts `Authorization: Bearer <access token>` and sets `request.user`;
 * with `limits`, it also counts the call against the user's REST rate (`REST_RATE_LIMIT`).
 */
export function requireUser(accounts: AccountService, limits?: AbuseLimits): RequireUser {
  return async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new UnauthorizedError("Authentication credentials were not provided");
    const { user } = await accounts.authenticate(token);
    await limits?.restCall(user.id);
    request.user = user;
  };
}

/** The user of a route behind `requireUser`. */
export function currentUser(request: FastifyRequest): User {
  if (!request.user) throw new UnauthorizedError();
  return request.user;
}
