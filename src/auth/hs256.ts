import { createHmac, timingSafeEqual } from "node:crypto";

// HS256 verification with node:crypto's synchronous HMAC. jose verifies through WebCrypto,
// whose HMAC job (plus a key import per call when given raw bytes) was the largest single
// cost of an authenticated connect; the checks below are the ones jose's jwtVerify makes for
// our tokens: compact form, a header with alg HS256 and no `crit`, the signature (compared
// in constant time), a JSON object payload, numeric exp/nbf/iat when present, exp and nbf
// against the clock in whole seconds.

export type Hs256Result =
  | { ok: true; payload: Record<string, unknown> }
  | { ok: false; reason: "invalid" | "expired" };

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const INVALID = { ok: false, reason: "invalid" } as const;

function decodeObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const optionalNumber = (value: unknown) => value === undefined || typeof value === "number";

export function verifyHs256(token: string, key: Uint8Array): Hs256Result {
  const parts = token.split(".");
  if (parts.length !== 3) return INVALID;
  const [header = "", body = "", signature = ""] = parts;
  if (!SEGMENT.test(header) || !SEGMENT.test(body) || !SEGMENT.test(signature)) return INVALID;
  const protectedHeader = decodeObject(header);
  if (protectedHeader?.alg !== "HS256" || protectedHeader.crit !== undefined) return INVALID;
  const expected = createHmac("sha256", key).update(`${header}.${body}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return INVALID;
  const payload = decodeObject(body);
  if (payload === undefined) return INVALID;
  const { exp, nbf, iat } = payload;
  if (!optionalNumber(exp) || !optionalNumber(nbf) || !optionalNumber(iat)) return INVALID;
  const now = Math.floor(Date.now() / 1000);
  if (typeof nbf === "number" && nbf > now) return INVALID;
  if (typeof exp === "number" && exp <= now) return { ok: false, reason: "expired" };
  return { ok: true, payload };
}
