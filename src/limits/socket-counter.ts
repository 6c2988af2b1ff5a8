import type { Logger } from "pino";
import type { LimitsRedis } from "./limits-redis.js";

/** Open sockets per user: a socket takes a place when it connects and gives it back on close. */
export interface SocketCounter {
  /** Takes a place for `socketId` unless the user already holds `limit`; false when full. */
  add(userId: number, socketId: string, limit: number): Promise<boolean>;
  remove(userId: number, socketId: string): void;
  close(): Promise<void>;
}

/** One process's own sockets: the count when Redis is not configured, and its fallback. */
export class LocalSocketCounter implements SocketCounter {
  readonly byUser = new Map<number, Set<string>>();

  async add(userId: number, socketId: string, limit: number): Promise<boolean> {
    return this.addNow(userId, socketId, limit);
  }

  addNow(userId: number, socketId: string, limit: number): boolean {
    let sockets = this.byUser.get(userId);
    if (!sockets) {
      sockets = new Set();
      this.byUser.set(userId, sockets);
    }
    if (sockets.size >= limit) {
      if (sockets.size === 0) this.byUser.delete(userId);
      return false;
    }
    sockets.add(socketId);
    return true;
  }

  remove(userId: number, socketId: string): void {
    const sockets = this.byUser.get(userId);
    if (!sockets?.delete(socketId) || sockets.size > 0) return;
    this.byUser.delete(userId);
  }

  async close(): Promise<void> {
    this.byUser.clear();
  }
}

// A user's sockets on every process are one sorted set: member = socket id, score = the time
// (Redis's clock) until which the place is held. The process that holds a socket renews its
// places every lease/3; a place nobody renews (its process was killed, or lost Redis while the
// socket closed) lapses after one lease and is swept by the next admission. So a count never
// leaks for longer than a lease, and no process has to clean up after another.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const ADMIT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;
// Re-adds as well as renews: after a Redis restart the places of open sockets come back.
const RENEW = `${NOW}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;
const REMOVE = `redis.call('ZREM', KEYS[1], ARGV[1]) return 1`;

/**
 * The count across processes. While Redis cannot be reached, admissions fall back to this
 * process's own count (logged once per outage): a Redis outage must not lock agents out.
 */
export class RedisSocketCounter implements SocketCounter {
  private readonly local = new LocalSocketCounter();
  private readonly timer: NodeJS.Timeout;
  private fallingBack = false;

  constructor(
    private readonly redis: LimitsRedis,
    private readonly prefix: string,
    private readonly leaseMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  async add(userId: number, socketId: string, limit: number): Promise<boolean> {
    try {
      const admitted = await this.redis.evalScript(ADMIT, this.key(userId), [
        String(limit),
        String(this.leaseMs),
        socketId,
      ]);
      this.recovered();
      if (Number(admitted) !== 1) return false;
      // Kept locally too, for renewals (and the fallback count).
      const mine = this.local.byUser.get(userId) ?? new Set<string>();
      mine.add(socketId);
      this.local.byUser.set(userId, mine);
      return true;
    } catch (err) {
      this.fallBack(err);
      return this.local.addNow(userId, socketId, limit);
    }
  }

  remove(userId: number, socketId: string): void {
    this.local.remove(userId, socketId);
    // A failed removal lapses with its lease.
    this.redis.evalScript(REMOVE, this.key(userId), [socketId]).catch((err: unknown) => {
      this.fallBack(err);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // This process's places go now rather than when their lease runs out.
    await Promise.allSettled(
      [...this.local.byUser].flatMap(([userId, sockets]) =>
        [...sockets].map((id) => this.redis.evalScript(REMOVE, this.key(userId), [id])),
      ),
    );
    await this.local.close();
  }

  private key(userId: number): string {
    return `${this.prefix}sockets:${userId}`;
  }

  private async renew(): Promise<void> {
    for (const [userId, sockets] of this.local.byUser) {
      if (sockets.size === 0) continue;
      try {
        await this.redis.evalScript(RENEW, this.key(userId), [String(this.leaseMs), ...sockets]);
        this.recovered();
      } catch (err) {
        this.fallBack(err);
        return;
      }
    }
  }

  private fallBack(err: unknown): void {
    if (this.fallingBack) return;
    this.fallingBack = true;
    this.log.warn(
      { err },
      "redis unreachable: open sockets per user are counted per process until it is back",
    );
  }

  private recovered(): void {
    if (!this.fallingBack) return;
    this.fallingBack = false;
    this.log.info("redis back: open sockets per user are counted across processes again");
  }
}
