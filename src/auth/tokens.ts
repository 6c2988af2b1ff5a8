import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { UnauthorizedError } from "../errors.js";
import { verifyHs256 } from "./hs256.js";

// JWTs with the claims of Django REST framework SimpleJWT (token_type, user_id, exp, iat, jti),
// HS256, so that a token minted by an existing Django backend sharing the key is accepted.

export type TokenType = "access" | "refresh";

export interface VerifiedToken {
  userId: number;
  /** Expiry in epoch milliseconds. */
  expiresAt: number;
}

export class TokenIssuer {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: Record<TokenType, number>,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(userId: number, type: TokenType): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ token_type: type, user_id: userId })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds[type])
      .setJti(randomUUID().replaceAll("-", ""))
      .sign(this.key);
  }

  /** Throws `UnauthorizedError` for anything but a valid, unexpired token of `type`. */
  async verify(token: string, type: TokenType): Promise<VerifiedToken> {
    const verified = verifyHs256(token, this.key);
    if (!verified.ok) {
      throw new UnauthorizedError(
        verified.reason === "expired" ? "Token expired" : "Invalid token",
      );
    }
    const { payload } = verified;
    if (payload.token_type !== type) {
      throw new UnauthorizedError(
        type === "access" ? "Not an access token" : "Not a refresh token",
      );
    }
    const userId = parseUserId(payload.user_id);
    if (userId === undefined || typeof payload.exp !== "number") {
      throw new UnauthorizedError("Invalid token");
    }
    return { userId, expiresAt: payload.exp * 1000 };
  }
}

// SimpleJWT writes user_id as a number or, in newer versions, as a string.
function parseUserId(value: unknown): number | undefined {
  const id = typeof value === "string" && /^[1-9]\d{0,15}$/.test(value) ? Number(value) : value;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}
