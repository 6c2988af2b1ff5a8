import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AccessToken, TokenPair } from "../../client/wire.js";
import type { AccountService } from "../auth/account-service.js";
import { userView } from "../domain/views.js";
import { UnauthorizedError } from "../errors.js";
import type { AbuseLimits } from "../limits/abuse-limits.js";
import { currentUser, type RequireUser } from "./authenticate.js";
import { parseInput } from "./error-handler.js";

// Django's username rule, so accounts move between the two backends unchanged.
const registration = z.object({
  username: z
    .string()
    .min(1)
    .max(150)
    .regex(/^[\p{L}\p{N}_.@+-]+$/u, "letters, digits and @/./+/-/_ only"),
  password: z.string().min(8, "at least 8 characters").max(256),
  first_name: z.string().max(150).optional().default(""),
  last_name: z.string().max(150).optional().default(""),
});
const credentials = z.object({ username: z.string().max(150), password: z.string().max(256) });
const refresh = z.object({ refresh: z.string().max(4096) });

/** protocol.md section 2. */
export async function authRoutes(
  app: FastifyInstance,
  opts: { accounts: AccountService; requireUser: RequireUser; limits?: AbuseLimits },
): Promise<void> {
  const { accounts, requireUser, limits } = opts;

  app.post("/api/auth/register/", async (request, reply) => {
    // Every attempt counts, valid or not: the limit is on what one address may try.
    await limits?.registrationAttempt(request.ip);
    const body = parseInput(registration, request.body);
    const user = await accounts.register({
      username: body.username,
      password: body.password,
      firstName: body.first_name,
      lastName: body.last_name,
    });
    return reply.status(201).send(userView(user));
  });

  app.post("/api/auth/token/", async (request): Promise<TokenPair> => {
    const body = parseInput(credentials, request.body);
    // Checked before the password, so that a full count refuses even the right one: guessing
    // on cannot tell a hit from a miss until the window has passed.
    await limits?.checkSignIn(body.username, request.ip);
    try {
      const tokens = await accounts.login(body.username, body.password);
      await limits?.signInSucceeded(body.username);
      return tokens;
    } catch (err) {
      if (err instanceof UnauthorizedError) await limits?.signInFailed(body.username, request.ip);
      throw err;
    }
  });

  app.post("/api/auth/token/refresh/", async (request): Promise<AccessToken> => {
    return accounts.refresh(parseInput(refresh, request.body).refresh);
  });

  app.get("/api/auth/me/", { preHandler: requireUser }, async (request) =>
    userView(currentUser(request)),
  );
}
