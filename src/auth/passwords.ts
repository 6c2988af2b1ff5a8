import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

// Salted scrypt hashes, stored with their parameters so they can be raised later without
// invalidating existing hashes: `scrypt$N$r$p$salt$hash` (salt and hash in base64url).

const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return [
    "scrypt",
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString("base64url"),
    key.toString("base64url"),
  ].join("$");
}

/** False for a wrong password and for a stored value that is not a hash this module made. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash || rest.length > 0) return false;
  const params = [n, r, p].map((v) =>
    v !== undefined && /^[1-9]\d{0,9}$/.test(v) ? Number(v) : 0,
  );
  const [N = 0, blockSize = 0, parallel = 0] = params;
  if (N === 0 || blockSize === 0 || parallel === 0) return false;
  const expected = Buffer.from(hash, "base64url");
  if (expected.length !== KEY_LENGTH) return false;
  try {
    // A damaged row (N not a power of two, memory over scrypt's limit) fails here: that is a
    // failed login, not a server error.
    const key = await derive(password, Buffer.from(salt, "base64url"), {
      N,
      r: blockSize,
      p: parallel,
    });
    return timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}

// Verifying against this when the user does not exist makes both failures take the same time,
// so response timing does not reveal which usernames exist.
let decoy: Promise<string> | undefined;
export const decoyHash = (): Promise<string> => {
  decoy ??= hashPassword(randomBytes(16).toString("hex"));
  return decoy;
};
