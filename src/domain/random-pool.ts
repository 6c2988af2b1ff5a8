import { randomFillSync } from "node:crypto";

// Ids are made on every stored message; fetching a few bytes from the system's generator per
// id (ulid asks for one byte per character) was a visible share of the ingest's CPU. Bytes are
// drawn from the same generator, a few kilobytes at a time, and each byte is used once.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** `size` (at most 4096) cryptographically random bytes, in a new buffer. */
export function pooledRandomBytes(size: number): Buffer {
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}

/** A random fraction in [0, 1) from 32 random bits (the `prng` ulid expects). */
export function pooledRandomFraction(): number {
  if (offset + 4 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const value = pool.readUInt32LE(offset);
  offset += 4;
  return value / 2 ** 32;
}
