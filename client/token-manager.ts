import { ApiError, SignedOutError } from "./errors.js";
import { type FetchLike, requestJson } from "./http.js";
import { readClaims } from "./jwt.js";
import type { StoredTokens, TokenStorage } from "./token-storage.js";
import type { AccessToken } from "./wire.js";

/** Why the user is no longer signed in. */
export type SignOutReason = "sign_out" | "refresh_failed";

// After a refresh that failed for want of a network, try again this soon.
const RETRY_REFRESH_MS = 3_000;

/**
 * Owns the token pair: hands out an access token that is not about to expire, refreshes it a
 * little before `exp` (read from the JWT without verifying it) and whenever the server rejects
 * it, and signs the user out when the refresh token itself is refused. A refresh that fails
 * because the server cannot be reached is retried instead: a restart is not a sign-out.
 */
export class TokenManager {
  private current: StoredTokens | null;
  // Server time minus local time, learnt from `iat`, so a wrong local clock does not matter.
  private skewMs = 0;
  private inflight: Promise<string> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deps: {
      baseUrl: string;
      fetch: FetchLike;
      storage: TokenStorage;
      onSignedOut: (reason: SignOutReason) => void;
      now?: () => number;
    },
  ) {
    this.current = deps.storage.load();
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** The tokens held now, if any. */
  get tokens(): StoredTokens | null {
    return this.current;
  }

  /** Takes a fresh pair (after sign-in) and keeps it in storage. */
  set(tokens: StoredTokens): void {
    this.learnSkew(tokens.access);
    this.current = tokens;
    this.deps.storage.save(tokens);
    this.schedule();
  }

  /** Forgets the tokens, in storage too. */
  clear(): void {
    clearTimeout(this.timer);
    this.current = null;
    this.inflight = null;
    this.deps.storage.save(null);
  }

  /** Starts the timer that refreshes before expiry (after `restore`). */
  start(): void {
    this.schedule();
  }

  /** Stops the refresh timer; the tokens stay. */
  stop(): void {
    clearTimeout(this.timer);
  }

  /** An access token valid for a while yet; refreshes first when it is close to `exp`. */
  async accessToken(): Promise<string> {
    const tokens = this.current;
    if (!tokens) throw new SignedOutError();
    if (this.msUntilRefresh(tokens.access) > 0) return tokens.access;
    return this.refresh();
  }

  /**
   * The server refused `token` (a 401, a 4001 close): a newer one if we already have it,
   * else a refreshed one.
   */
  async rejected(token: string): Promise<string> {
    const tokens = this.current;
    if (!tokens) throw new SignedOutError();
    if (tokens.access !== token && this.msUntilRefresh(tokens.access) > 0) return tokens.access;
    return this.refresh();
  }

  /** Refreshes the access token now (one request however many callers ask at once). */
  refresh(): Promise<string> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async doRefresh(): Promise<string> {
    const tokens = this.current;
    if (!tokens) throw new SignedOutError();
    const refreshClaims = readClaims(tokens.refresh);
    if (refreshClaims && refreshClaims.exp * 1000 - this.skewMs <= this.now()) {
      this.fail(tokens);
      throw new SignedOutError();
    }
    let answer: AccessToken;
    try {
      answer = await requestJson<AccessToken>(
        this.deps.fetch,
        this.deps.baseUrl,
        "POST",
        "/api/auth/token/refresh/",
        { body: { refresh: tokens.refresh } },
      );
    } catch (err) {
      // 401 (expired or revoked) and 400 (unreadable) are the server's final word.
      if (err instanceof ApiError && (err.status === 401 || err.status === 400)) {
        this.fail(tokens);
        throw new SignedOutError();
      }
      if (this.current === tokens) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.refreshInBackground(), RETRY_REFRESH_MS);
      }
      throw err;
    }
    // Signed out (or in as someone else) meanwhile: this answer belongs to nobody.
    if (this.current !== tokens) throw new SignedOutError();
    this.set({ access: answer.access, refresh: tokens.refresh });
    return answer.access;
  }

  private fail(tokens: StoredTokens): void {
    if (this.current !== tokens) return;
    this.clear();
    this.deps.onSignedOut("refresh_failed");
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.current) return;
    // setTimeout cannot wait longer than 2^31-1 ms; a long wait is simply re-armed.
    const wait = Math.min(this.msUntilRefresh(this.current.access), 2 ** 31 - 1);
    this.timer = setTimeout(
      () => {
        if (this.current && this.msUntilRefresh(this.current.access) > 0) this.schedule();
        else this.refreshInBackground();
      },
      Math.max(0, wait),
    );
  }

  private refreshInBackground(): void {
    // Failures are handled inside (sign-out or a retry timer); nobody awaits this one.
    this.refresh().catch(() => undefined);
  }

  /** Milliseconds until `access` should be replaced: some time before its `exp`. */
  private msUntilRefresh(access: string): number {
    const claims = readClaims(access);
    if (!claims) return 0;
    const lifetimeMs = claims.iat === undefined ? 3_600_000 : (claims.exp - claims.iat) * 1000;
    // A fifth of the lifetime, at least half a second, at most a minute.
    const marginMs = Math.min(60_000, Math.max(500, lifetimeMs / 5));
    return claims.exp * 1000 - this.skewMs - marginMs - this.now();
  }

  private learnSkew(access: string): void {
    const claims = readClaims(access);
    if (claims?.iat === undefined) return;
    // `iat` is whole seconds: only a difference well beyond that rounding is a wrong clock.
    const skew = claims.iat * 1000 - this.now();
    this.skewMs = Math.abs(skew) > 5_000 ? skew : 0;
  }
}
