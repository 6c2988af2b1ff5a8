import type { Conversation, User } from "../domain/types.js";
import { ForbiddenError, UnauthorizedError } from "../errors.js";
import type { Store } from "../store/store.js";
import { decoyHash, hashPassword, verifyPassword } from "./passwords.js";
import type { TokenIssuer } from "./tokens.js";

export interface Registration {
  username: string;
  password: string;
  firstName: string;
  lastName: string;
}

/** Accounts and tokens (protocol.md section 2). */
export class AccountService {
  constructor(
    private readonly store: Store,
    readonly tokens: TokenIssuer,
    private readonly allowRegistration: boolean,
  ) {}

  async register(input: Registration): Promise<User> {
    if (!this.allowRegistration) {
      throw new ForbiddenError("Registration is switched off", "registration_closed");
    }
    return this.store.users.create({
      username: input.username,
      passwordHash: await hashPassword(input.password),
      firstName: input.firstName,
      lastName: input.lastName,
    });
  }

  /** Same error for an unknown user and a wrong password, in the same time. */
  async login(username: string, password: string): Promise<{ access: string; refresh: string }> {
    const user = await this.store.users.findByUsername(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !ok)
      throw new UnauthorizedError("No active account found with the given credentials");
    const [access, refresh] = await Promise.all([
      this.tokens.sign(user.id, "access"),
      this.tokens.sign(user.id, "refresh"),
    ]);
    return { access, refresh };
  }

  async refresh(refreshToken: string): Promise<{ access: string }> {
    const { userId } = await this.tokens.verify(refreshToken, "refresh");
    const user = await this.store.users.findById(userId);
    if (!user) throw new UnauthorizedError("User not found");
    return { access: await this.tokens.sign(user.id, "access") };
  }

  /** The user behind an access token, with the token's expiry (sockets close at that moment). */
  async authenticate(accessToken: string): Promise<{ user: User; expiresAt: number }> {
    const { userId, expiresAt } = await this.tokens.verify(accessToken, "access");
    const user = await this.store.users.findById(userId);
    if (!user) throw new UnauthorizedError("User not found");
    return { user, expiresAt };
  }

  /**
   * `authenticate` for a chat socket, with the conversation it opens read in the same round
   * trip: undefined when it does not exist or belongs to another user.
   */
  async authenticateWithConversation(
    accessToken: string,
    conversationId: string,
  ): Promise<{ user: User; expiresAt: number; conversation: Conversation | undefined }> {
    const { userId, expiresAt } = await this.tokens.verify(accessToken, "access");
    const found = await this.store.users.findWithConversation(userId, conversationId);
    if (!found) throw new UnauthorizedError("User not found");
    return { user: found.user, expiresAt, conversation: found.conversation };
  }
}
