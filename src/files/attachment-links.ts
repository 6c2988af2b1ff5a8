import { createHmac } from "node:crypto";
import { attachmentPath } from "../domain/views.js";
import { secretsEqual } from "../platforms/constant-time.js";

// Signed links (section 7b): `/api/attachments/{id}/?exp=&sig=` opens the bytes without an
// Authorization header until `exp`, so a link works in `<img src>`. The key is derived from the
// server secret (JWT_SECRET), which every process of a deployment shares.

const HOUR_SECONDS = 3600;

export class AttachmentLinks {
  private readonly key: Buffer;

  constructor(
    secret: string,
    /** Validity of a fresh link, in seconds (at least an hour). */
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    // A key of its own: a link's signature can never stand in for any other signed value.
    this.key = createHmac("sha256", secret).update("fiko attachment links v1").digest();
  }

  /**
   * A path valid for at least `ttlSeconds`. `exp` is rounded up to the next whole hour, so the
   * links made within an hour are identical and a browser's cache serves them.
   */
  path(id: string): string {
    const earliest = Math.floor(this.now() / 1000) + this.ttlSeconds;
    const exp = Math.ceil(earliest / HOUR_SECONDS) * HOUR_SECONDS;
    return `${attachmentPath(id)}?exp=${exp}&sig=${this.signature(id, exp)}`;
  }

  /** The absolute link for a platform that fetches the file itself (Instagram). */
  url(publicUrl: string, id: string): string {
    return `${publicUrl}${this.path(id)}`;
  }

  /** True for an unexpired link made by `path`; compared in constant time. */
  valid(id: string, exp: string | undefined, sig: string | undefined): boolean {
    if (exp === undefined || !/^\d{1,12}$/.test(exp)) return false;
    const expected = this.signature(id, Number(exp));
    const signed = secretsEqual(sig, expected);
    return signed && Number(exp) * 1000 > this.now();
  }

  private signature(id: string, exp: number): string {
    return createHmac("sha256", this.key).update(`${id}:${exp}`).digest("base64url").slice(0, 43);
  }
}
