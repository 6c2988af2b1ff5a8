import type { Logger } from "pino";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import type { Limits } from "../config.js";
import { RateLimitedError, TooManyConnectionsError } from "../errors.js";
import { connectLimitsRedis, type LimitsRedis } from "./limits-redis.js";
import { LocalSocketCounter, RedisSocketCounter, type SocketCounter } from "./socket-counter.js";

const MINUTE = 60;

/** Once per outage is enough: every check would log otherwise. */
class FallbackNotice {
  private last = 0;
  constructor(private readonly log: Logger) {}
  note(): void {
    const now = Date.now();
    if (now - this.last < 60_000) return;
    this.last = now;
    this.log.warn("redis unreachable: rate limits are counted per process until it is back");
  }
}

/** In-memory counts that stand in for Redis during an outage, and say so in the log. */
class InsuranceLimiter extends RateLimiterMemory {
  constructor(
    options: { points: number; duration: number; keyPrefix: string },
    private readonly notice: FallbackNotice,
  ) {
    super(options);
  }
  override consume(key: string | number, points?: number, options?: object) {
    this.notice.note();
    return super.consume(key, points, options);
  }
  override get(key: string | number, options?: object) {
    this.notice.note();
    return super.get(key, options);
  }
}

/**
 * The abuse limits of protocol.md section 9. With Redis the counts are shared by every process
 * (rate-limiter-flexible's `RateLimiterRedis`); during a Redis outage, and without Redis, each
 * process counts on its own. A limit of 0 is off.
 */
export class AbuseLimits {
  private readonly signInByUser: RateLimiterAbstract | undefined;
  private readonly signInByAddress: RateLimiterAbstract | undefined;
  private readonly registration: RateLimiterAbstract | undefined;
  private readonly rest: RateLimiterAbstract | undefined;
  private readonly connects: RateLimiterAbstract | undefined;
  readonly sockets: SocketCounter;

  private constructor(
    readonly limits: Limits,
    private readonly redis: LimitsRedis | undefined,
    prefix: string,
    log: Logger,
  ) {
    const notice = new FallbackNotice(log);
    const make = (name: string, points: number, duration: number) => {
      if (points <= 0) return undefined;
      const keyPrefix = `${prefix}rl:${name}`;
      if (!redis) return new RateLimiterMemory({ points, duration, keyPrefix });
      return new RateLimiterRedis({
        storeClient: redis.client,
        useRedisPackage: true,
        rejectIfRedisNotReady: true,
        points,
        duration,
        keyPrefix,
        insuranceLimiter: new InsuranceLimiter({ points, duration, keyPrefix }, notice),
      });
    };
    this.signInByUser = make("signin-user", limits.signInFailures, limits.signInWindowSeconds);
    this.signInByAddress = make("signin-ip", limits.signInFailures, limits.signInWindowSeconds);
    this.registration = make("register-ip", limits.registrations, limits.registrationWindowSeconds);
    this.rest = make("rest-user", limits.restPerMinute, MINUTE);
    this.connects = make("ws-connect-user", limits.wsConnectsPerMinute, MINUTE);
    this.sockets = redis
      ? new RedisSocketCounter(redis, prefix, limits.socketLeaseMs, log)
      : new LocalSocketCounter();
  }

  static async create(options: {
    limits: Limits;
    redisUrl: string | undefined;
    prefix: string;
    log: Logger;
  }): Promise<AbuseLimits> {
    const log = options.log.child({ component: "limits" });
    const redis = options.redisUrl ? await connectLimitsRedis(options.redisUrl, log) : undefined;
    return new AbuseLimits(options.limits, redis, options.prefix, log);
  }

  /** Before a sign-in is checked: refused while either failure count is full. */
  async checkSignIn(username: string, address: string): Promise<void> {
    const max = this.limits.signInFailures;
    const [byUser, byAddress] = await Promise.all([
      this.signInByUser?.get(userKey(username)),
      this.signInByAddress?.get(address),
    ]);
    const full = [byUser, byAddress].filter(
      (res): res is RateLimiterRes => res != null && res.consumedPoints >= max,
    );
    if (full.length === 0) return;
    const wait = Math.max(...full.map((res) => res.msBeforeNext));
    throw new RateLimitedError("Too many failed sign-ins: try again later", seconds(wait));
  }

  async signInFailed(username: string, address: string): Promise<void> {
    await Promise.all([
      spend(this.signInByUser, userKey(username)),
      spend(this.signInByAddress, address),
    ]);
  }

  /** The right password before the limit: that username's failures are forgiven. */
  async signInSucceeded(username: string): Promise<void> {
    try {
      await this.signInByUser?.delete(userKey(username));
    } catch {
      // Redis is down: the count lapses with its window.
    }
  }

  registrationAttempt(address: string): Promise<void> {
    return take(this.registration, address, "Too many registrations: try again later");
  }

  restCall(userId: number): Promise<void> {
    return take(this.rest, String(userId), "Too many requests: slow down");
  }

  /** A new socket of `userId`: within the per-minute rate and the open-socket count. */
  async admitSocket(userId: number, socketId: string): Promise<boolean> {
    if (this.connects) {
      try {
        await this.connects.consume(String(userId));
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          throw new TooManyConnectionsError("Too many new connections: try again later");
        }
        throw rejection;
      }
    }
    const max = this.limits.maxSocketsPerUser;
    if (max <= 0) return false;
    if (!(await this.sockets.add(userId, socketId, max))) {
      throw new TooManyConnectionsError("Too many open connections for this user");
    }
    return true;
  }

  async close(): Promise<void> {
    await this.sockets.close();
    await this.redis?.close();
  }
}

// Usernames differ by case only in spelling, not in whose door is being knocked on.
const userKey = (username: string): string => username.trim().toLowerCase();

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Counts one failure; a full count is already what we want, not an error. */
async function spend(limiter: RateLimiterAbstract | undefined, key: string): Promise<void> {
  if (!limiter) return;
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
  }
}

async function take(
  limiter: RateLimiterAbstract | undefined,
  key: string,
  message: string,
): Promise<void> {
  if (!limiter) return;
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) {
      throw new RateLimitedError(message, seconds(rejection.msBeforeNext));
    }
    throw rejection;
  }
}
