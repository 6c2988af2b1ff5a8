/** The claims the SDK reads from a token; the signature is the server's business, not ours. */
export interface TokenClaims {
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Issue time, seconds since the epoch (absent from some foreign tokens). */
  iat?: number;
}

/** Reads a JWT's payload without verifying it; `null` when it is not a readable JWT. */
export function readClaims(token: string): TokenClaims | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const claims: unknown = JSON.parse(atob(padded));
    if (typeof claims !== "object" || claims === null) return null;
    const { exp, iat } = claims as Record<string, unknown>;
    if (typeof exp !== "number") return null;
    return typeof iat === "number" ? { exp, iat } : { exp };
  } catch {
    return null;
  }
}
