import type { Logger } from "pino";
import type { BusEvent } from "../domain/events.js";
import type { Bus, BusHandler, Unsubscribe } from "./bus.js";
import { ClusterConnection } from "./redis-cluster-connection.js";
import {
  type ConnectionEvents,
  isClusterNode,
  NodeConnection,
  type RedisConnection,
} from "./redis-connections.js";
import { TopicSubscriptions } from "./topic-subscriptions.js";
import { decodeEvent, encodeEvent } from "./wire.js";

export interface RedisBusOptions {
  /** Put before every channel name, so that several deployments can share one Redis. */
  channelPrefix?: string;
  /** Connection names (`CLIENT LIST`): `{name}-pub` and `{name}-sub`. */
  clientName?: string;
}

type Role = "pub" | "sub";

/** Before the first connection: give up after about 7 s so a misconfigured start fails. */
const INITIAL_CONNECT_ATTEMPTS = 8;
const MAX_RECONNECT_DELAY_MS = 2000;
/** Triggers that arrive together (both connections back, notices from peers) resync once. */
const RESYNC_COALESCE_MS = 50;
/** A subscription that failed to come back while connected is tried again this often. */
const RESTORE_RETRY_MS = 1000;
const PING_TIMEOUT_MS = 1000;
/** Sent on `{prefix}bus:resync` by a process whose publishes were lost. */
const RESYNC_TOPIC = "bus:resync";
const RESYNC_NOTICE = JSON.stringify({ kind: "resync" });

/**
 * The bus for several processes, over Redis sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`): each
 * topic is its own shard channel. On a plain Redis both sides talk to that one server; on a
 * Redis Cluster (`REDIS_URL` is any of its nodes) each channel lives on the primary that owns
 * its slot, so the topics spread over the cluster (see `ClusterConnection` and docs/cluster.md).
 *
 * - One publishing and one subscribing side per process (on a cluster, a connection per primary
 *   for each). A topic is subscribed while this process has handlers for it, once however many
 *   handlers it has (see `TopicSubscriptions`).
 * - Both sides reconnect by themselves. When the subscribing side is whole again, every wanted
 *   topic is subscribed again and then the `onResync` listeners run, so sockets catch up from
 *   the store.
 * - `publish` rejects at once while its connection is down (no offline queue: the caller logs and
 *   goes on, the message is already stored). The first publish that fails sets a flag; once the
 *   publishing side is back, a notice on `{prefix}bus:resync` makes every process, this one
 *   included, resync, so a subscriber that never lost its own connection still gets what this
 *   process failed to publish.
 * - A payload that is not a known event is logged and dropped; a handler that throws is logged.
 */
export class RedisBus implements Bus {
  private readonly topics: TopicSubscriptions;
  private readonly resyncListeners: Array<() => void> = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private restoreTimer: NodeJS.Timeout | undefined;
  private publishLost = false;
  private announcing = false;
  private closed = false;

  private constructor(
    private readonly pub: RedisConnection,
    private readonly sub: RedisConnection,
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
   * Connects both sides (`url` is `redis[s]://[user:password@]host[:port][/db]`, for a cluster
   * any node of it) and subscribes the resync channel. Rejects when Redis cannot be reached
   * within a few seconds, or when a cluster does not serve every slot.
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
    const cluster = await isClusterNode(url, reconnectStrategy);
    const side = (role: Role): RedisConnection => {
      const settings = { url, name: `${name}-${role}`, reconnectStrategy };
      return cluster ? new ClusterConnection(settings, role) : new NodeConnection(settings);
    };
    const busLog = log.child({ component: "redis-bus" });
    const bus = new RedisBus(side("pub"), side("sub"), options.channelPrefix ?? "fiko:", busLog);
    await bus.start();
    started.done = true;
    busLog.info({ cluster }, "redis bus connected");
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
    await this.pub.ping(PING_TIMEOUT_MS);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resyncTimer);
    clearTimeout(this.restoreTimer);
    this.topics.clear();
    await Promise.allSettled([this.sub.close(), this.pub.close()]);
  }

  private channel(topic: string): string {
    return this.prefix + topic;
  }

  private events(role: Role): ConnectionEvents {
    return { lost: (err) => this.lost(role, err), back: () => this.back(role) };
  }

  private async start(): Promise<void> {
    try {
      await Promise.all([
        this.pub.connect(this.events("pub")),
        this.sub.connect(this.events("sub")),
      ]);
      await this.sub.sSubscribe(this.channel(RESYNC_TOPIC), this.onNotice);
    } catch (err) {
      this.closed = true;
      this.pub.destroy();
      this.sub.destroy();
      throw err;
    }
  }

  private readonly onNotice = (): void => this.scheduleResync("notice");

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
    if (this.closed) return;
    this.log.warn({ err, connection: role }, "redis connection lost; reconnecting");
  }

  private back(role: Role): void {
    if (this.closed) return;
    this.log.info({ connection: role }, "redis connection back");
    if (role === "pub") void this.announceLoss();
    else void this.restore();
  }

  /**
   * Re-subscribes what is wanted (the connection restored what it held; this adds those made or
   * dropped meanwhile, and on a cluster those that moved). Only then is it safe to read the
   * store: nothing published later is missed.
   */
  private async restore(): Promise<void> {
    clearTimeout(this.restoreTimer);
    this.restoreTimer = undefined;
    const [notice, topics] = await Promise.all([
      this.sub.sSubscribe(this.channel(RESYNC_TOPIC), this.onNotice).then(
        () => 0,
        (err: unknown) => {
          this.log.warn({ err }, "bus resync channel re-subscribe failed");
          return 1;
        },
      ),
      this.topics.reconcileAll(),
    ]);
    if (this.closed) return;
    this.scheduleResync("reconnect");
    // Refused while connected (a slot in the middle of a move, say): try again. A new outage
    // restores everything on its own `back`.
    if (notice + topics > 0 && this.sub.isReady) {
      this.restoreTimer = setTimeout(() => void this.restore(), RESTORE_RETRY_MS);
    }
  }

  private async announceLoss(): Promise<void> {
    if (!this.publishLost || this.announcing || this.closed) return;
    this.announcing = true;
    this.publishLost = false;
    try {
      await this.pub.sPublish(this.channel(RESYNC_TOPIC), RESYNC_NOTICE);
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
