import { createClient, type RedisClientType } from "@redis/client";
import type { Logger } from "pino";
import type { BusEvent } from "../domain/events.js";
import type { Bus, BusHandler, Unsubscribe } from "./bus.js";
import { TopicSubscriptions } from "./topic-subscriptions.js";
import { decodeEvent, encodeEvent } from "./wire.js";

export interface RedisBusOptions {
  /** Put before every channel name, so that several deployments can share one Redis. */
  channelPrefix?: string;
  /** Connection names (`CLIENT LIST`): `{name}-pub` and `{name}-sub`. */
  clientName?: string;
}

type Client = RedisClientType;
type Role = "pub" | "sub";

/** Before the first connection: give up after about 7 s so a misconfigured start fails. */
const INITIAL_CONNECT_ATTEMPTS = 8;
const MAX_RECONNECT_DELAY_MS = 2000;
/** Triggers that arrive together (both connections back, notices from peers) resync once. */
const RESYNC_COALESCE_MS = 50;
const PING_TIMEOUT_MS = 1000;
const CLOSE_TIMEOUT_MS = 2000;
/** Sent on `{prefix}bus:resync` by a process whose publishes were lost. */
const RESYNC_NOTICE = JSON.stringify({ kind: "resync" });

/**
 * The bus for several processes, over Redis sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`): each
 * topic is its own shard channel, ready to be spread over the nodes of a Redis Cluster (this
 * client talks to one primary; see docs/cluster.md).
 *
 * - One publishing and one subscribing connection per process. A topic is subscribed while this
 *   process has handlers for it, once however many handlers it has (see `TopicSubscriptions`).
 * - Both connections reconnect by themselves. When the subscriber is back, every wanted topic is
 *   subscribed again and then the `onResync` listeners run, so sockets catch up from the store.
 * - `publish` rejects at once while the publisher is disconnected (no offline queue: the caller
 *   logs and goes on, the message is already stored). The first publish that fails sets a flag;
 *   once the publisher is back, a notice on `{prefix}bus:resync` makes every process, this one
 *   included, resync, so a subscriber that never lost its own connection still gets what this
 *   process failed to publish.
 * - A payload that is not a known event is logged and dropped; a handler that throws is logged.
 */
export class RedisBus implements Bus {
  private readonly topics: TopicSubscriptions;
  private readonly resyncListeners: Array<() => void> = [];
  private readonly readyCount: Record<Role, number> = { pub: 0, sub: 0 };
  private readonly down = new Set<Role>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private publishLost = false;
  private announcing = false;
  private closed = false;

  private constructor(
    private readonly pub: Client,
    private readonly sub: Client,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.topics = new TopicSubscriptions(
      {
        isReady: () => this.sub.isReady,
        subscribe: (topic) => this.sub.sSubscribe(this.channel(topic), this.dispatch),
        unsubscribe: (topic) => this.sub.sUnsubscribe(this.channel(topic), this.dispatch),
      },
      log,
    );
  }

  /**
   * Connects both connections (`url` is `redis[s]://[user:password@]host[:port][/db]`) and
   * subscribes the resync channel. Rejects when Redis cannot be reached within a few seconds.
   */
  static async connect(url: string, log: Logger, options: RedisBusOptions = {}): Promise<RedisBus> {
    const name = options.clientName ?? "fiko";
    const started = { done: false };
    // Exponential backoff with jitter, forever once started; bounded before, so that a start
    // against a wrong or dead address fails instead of hanging.
    const reconnectStrategy = (retries: number, cause: Error): number | Error => {
      if (!started.done && retries >= INITIAL_CONNECT_ATTEMPTS) return cause;
      return Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 100);
    };
    const client = (role: Role): Client =>
      createClient({
        url,
        name: `${name}-${role}`,
        // No offline queue: a command sent while disconnected fails at once instead of waiting
        // for a reconnect that may take long (see `publish` and `TopicSubscriptions`).
        disableOfflineQueue: true,
        socket: { connectTimeout: 5000, reconnectStrategy },
      }) as Client;
    const bus = new RedisBus(
      client("pub"),
      client("sub"),
      options.channelPrefix ?? "fiko:",
      log.child({ component: "redis-bus" }),
    );
    await bus.start();
    started.done = true;
    return bus;
  }

  async publish(topic: string, event: BusEvent): Promise<void> {
    if (this.closed) throw new Error("bus is closed");
    try {
      await this.pub.sPublish(this.channel(topic), encodeEvent(event));
    } catch (err) {
      this.publishLost = true;
      throw err;
    }
    if (this.publishLost) void this.announceLoss();
  }

  subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe> {
    if (this.closed) return Promise.reject(new Error("bus is closed"));
    return this.topics.add(topic, handler);
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error("bus is closed");
    if (!this.sub.isReady) throw new Error("redis subscriber is disconnected");
    if (!this.pub.isReady) throw new Error("redis publisher is disconnected");
    await this.pub.withAbortSignal(AbortSignal.timeout(PING_TIMEOUT_MS)).ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resyncTimer);
    this.topics.clear();
    await Promise.allSettled([quit(this.sub), quit(this.pub)]);
  }

  private channel(topic: string): string {
    return this.prefix + topic;
  }

  private async start(): Promise<void> {
    for (const role of ["pub", "sub"] as const) {
      const client = role === "pub" ? this.pub : this.sub;
      client.on("error", (err: unknown) => this.lost(role, err));
      client.on("reconnecting", () => this.lost(role, undefined));
      client.on("ready", () => this.ready(role));
    }
    try {
      await Promise.all([this.pub.connect(), this.sub.connect()]);
      // Channels are sharded already, but the node client follows no MOVED redirects: refuse
      // a cluster node plainly rather than fail on the first topic in another node's slots.
      if (/^cluster_enabled:1\b/m.test(String(await this.pub.info("cluster")))) {
        throw new Error(
          "REDIS_URL points at a Redis Cluster node: the bus needs one Redis primary",
        );
      }
      await this.sub.sSubscribe(this.channel("bus:resync"), () => this.scheduleResync("notice"));
    } catch (err) {
      this.closed = true;
      this.pub.destroy();
      this.sub.destroy();
      throw err;
    }
  }

  // Runs for every incoming message: never throws, or the client's reply parser would reset.
  private readonly dispatch = (payload: string, channel: string): void => {
    const topic = channel.slice(this.prefix.length);
    const handlers = this.topics.handlersOf(topic);
    if (!handlers || handlers.size === 0) return;
    const event = decodeEvent(payload);
    if (!event) {
      this.log.warn({ channel, bytes: payload.length }, "dropped a malformed bus payload");
      return;
    }
    for (const handler of [...handlers]) {
      try {
        handler(event);
      } catch (err) {
        this.log.error({ err, topic, kind: event.kind }, "bus handler failed");
      }
    }
  };

  private lost(role: Role, err: unknown): void {
    if (this.closed || this.down.has(role) || this.readyCount[role] === 0) return;
    this.down.add(role);
    this.log.warn({ err, connection: role }, "redis connection lost; reconnecting");
  }

  private ready(role: Role): void {
    const reconnect = this.readyCount[role]++ > 0;
    this.down.delete(role);
    if (!reconnect || this.closed) return;
    this.log.info({ connection: role }, "redis connection back");
    if (role === "pub") {
      void this.announceLoss();
      return;
    }
    // The client restored the subscriptions it held; the reconcile adds those made or dropped
    // meanwhile. Only then is it safe to read the store: nothing published later is missed.
    void this.topics.reconcileAll().then(() => this.scheduleResync("reconnect"));
  }

  private async announceLoss(): Promise<void> {
    if (!this.publishLost || this.announcing || this.closed) return;
    this.announcing = true;
    this.publishLost = false;
    try {
      await this.pub.sPublish(this.channel("bus:resync"), RESYNC_NOTICE);
      this.log.info("announced lost publishes: every process resyncs");
    } catch {
      this.publishLost = true;
    } finally {
      this.announcing = false;
    }
  }

  private scheduleResync(reason: string): void {
    if (this.closed || this.resyncTimer) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      this.log.info({ reason, topics: this.topics.size }, "bus resync");
      for (const listener of this.resyncListeners) {
        try {
          listener();
        } catch (err) {
          this.log.error({ err }, "bus resync listener failed");
        }
      }
    }, RESYNC_COALESCE_MS);
  }
}

async function quit(client: Client): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) {
    client.destroy();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, CLOSE_TIMEOUT_MS);
  });
  await Promise.race([client.close(), timeout]);
  clearTimeout(timer);
}
