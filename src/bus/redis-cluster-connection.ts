import { createCluster, type RedisClientType, type RedisClusterType } from "@redis/client";
import {
  CONNECT_TIMEOUT_MS,
  type ConnectionEvents,
  type ConnectionSettings,
  Health,
  quit,
  type RedisConnection,
  type ShardListener,
} from "./redis-connections.js";

type Cluster = RedisClusterType;
type Master = Cluster["masters"][number];

const SLOTS = 16384;
const MOVE_SETTLE_MS = 100;
/**
 * While a node does not answer, the topology is read again this often (node-redis waits 5 s by
 * default), so that a replica promoted in its place is found soon after the failover.
 */
const TOPOLOGY_REFRESH_MS = 2000;
/**
 * What node-redis emits with the listeners of a node that left the topology, to subscribe them
 * on the new owners. Its own handler does not catch a failed subscribe (an unhandled rejection
 * would end the process), so this side handles the event itself.
 */
const RESUBSCRIBE_EVENT = "__resubscribeListeners";

interface MovedListeners {
  SHARDED?: Map<string, { strings: Set<ShardListener> }>;
}

/**
 * One side of the bus on a Redis Cluster, through node-redis's cluster client: it learns the
 * slots from the node at `url`, sends each `SPUBLISH` to the primary that owns the channel's
 * slot, holds one sharded-subscriber connection per primary that has channels of ours, follows
 * `MOVED` and slot moves, and refreshes the topology when a node stays unreachable (failover).
 *
 * The publishing side connects to every primary at once, so `ping` can check them all. The
 * subscribing side connects to a primary when the first channel of its slots is subscribed.
 *
 * An outage of this side is any of its connections down, or a channel moved to another node
 * (its subscription is briefly gone): `back` then comes once every connection is up, and the
 * bus re-asserts each subscription (a no-op for those the client restored by itself) before it
 * resyncs.
 */
export class ClusterConnection implements RedisConnection {
  private readonly cluster: Cluster;
  private readonly health = new Health(() => this.isReady);
  private readonly watched = new WeakSet<object>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    settings: ConnectionSettings,
    private readonly side: "pub" | "sub",
  ) {
    const { username, password, protocol } = new URL(settings.url);
    this.cluster = createCluster({
      rootNodes: [{ url: settings.url }],
      // Only `defaults` reach the connections to the nodes found in the topology.
      defaults: {
        name: settings.name,
        disableOfflineQueue: true,
        ...(username ? { username: decodeURIComponent(username) } : {}),
        ...(password ? { password: decodeURIComponent(password) } : {}),
        socket: {
          connectTimeout: CONNECT_TIMEOUT_MS,
          reconnectStrategy: settings.reconnectStrategy,
          ...(protocol === "rediss:" ? { tls: true as const } : {}),
        },
      },
      minimizeConnections: side === "sub",
      topologyRefreshOnReconnectionAttemptStrategy: TOPOLOGY_REFRESH_MS,
    }) as Cluster;
  }

  get isReady(): boolean {
    if (!this.cluster.isReady) return false;
    const masters = this.cluster.masters;
    if (this.side === "pub") {
      return masters.length > 0 && masters.every((master) => master.client?.isReady === true);
    }
    // A subscriber connection still making its first connect is not down: the command that
    // opened it waits for it.
    return masters.every(
      ({ pubSub }) => !pubSub || pubSub.connectPromise !== undefined || pubSub.client.isReady,
    );
  }

  async connect(events: ConnectionEvents): Promise<void> {
    const cluster = this.cluster;
    // Errors of the topology refresh: the node events below say what the bus needs to know.
    cluster.on("error", () => {});
    cluster.on("sharded-channel-moved-error", (err: unknown) => this.moved(err));
    // A topology refresh that was under way when the cluster closed still finishes, and
    // connects to the nodes it found; with our reconnect strategy those connections would retry
    // for ever once the nodes are gone, and keep the process from exiting. Whatever announces
    // itself after `close` is torn down again.
    for (const event of ["node-connect", "node-ready", "node-reconnecting", "node-error"]) {
      cluster.on(event, () => {
        if (this.closed) this.cluster.destroy();
      });
    }
    cluster.on("node-error", (err: unknown) => this.health.lost(err));
    cluster.on("node-reconnecting", () => this.health.lost(undefined));
    cluster.on("node-ready", () => {
      this.watchMoves();
      this.health.check();
    });
    cluster.removeAllListeners(RESUBSCRIBE_EVENT);
    cluster.on(RESUBSCRIBE_EVENT, (listeners: MovedListeners) => this.resubscribe(listeners));
    // A node left the topology: what it held moved to others, maybe onto connections that are
    // already up.
    cluster.on("node-disconnect", () => this.health.check());
    await cluster.connect();
    for (let slot = 0; slot < SLOTS; slot++) {
      if (!cluster.slots[slot]) {
        throw new Error(
          `the Redis Cluster at REDIS_URL serves no primary for slot ${slot}: is its cluster_state ok?`,
        );
      }
    }
    this.health.start(events);
  }

  async sPublish(channel: string, message: string): Promise<void> {
    await this.cluster.sPublish(channel, message);
  }

  sSubscribe(channel: string, listener: ShardListener): Promise<void> {
    return this.cluster.sSubscribe(channel, listener);
  }

  sUnsubscribe(channel: string, listener: ShardListener): Promise<void> {
    return this.cluster.sUnsubscribe(channel, listener);
  }

  async ping(timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    await Promise.all(
      this.cluster.masters.map(async (master: Master) => {
        const client: RedisClientType = await this.cluster.nodeClient(master);
        await client.withAbortSignal(signal).ping();
      }),
    );
  }

  async close(): Promise<void> {
    this.stop();
    await quit({
      isOpen: this.cluster.isOpen,
      isReady: this.isReady,
      close: () => this.cluster.close(),
      destroy: () => this.cluster.destroy(),
    });
  }

  destroy(): void {
    this.stop();
    if (this.cluster.isOpen) this.cluster.destroy();
  }

  private stop(): void {
    this.closed = true;
    this.health.stop();
    clearTimeout(this.retryTimer);
  }

  /**
   * A slot that moves to another node takes its channels' subscriptions with it: Redis sends
   * `SUNSUBSCRIBE` for them and the cluster client subscribes them again on the new owner.
   * Events published in between are lost, so a move is an outage of this side.
   */
  private watchMoves(): void {
    if (this.side !== "sub") return;
    for (const { pubSub } of this.cluster.masters) {
      const client = pubSub?.client;
      if (!client || this.watched.has(client)) continue;
      this.watched.add(client);
      client.on("sharded-channel-moved", (channel: string) =>
        this.moved(new Error(`shard channel ${channel} moved to another node`)),
      );
    }
  }

  /** Subscribes on their new owners the channels of a node that left; a failure is an outage. */
  private resubscribe(listeners: MovedListeners): void {
    const channels = listeners.SHARDED;
    if (!channels || channels.size === 0) return;
    this.moved(new Error(`${channels.size} shard channels moved to another node`));
    for (const [channel, { strings }] of channels) {
      for (const listener of strings) {
        this.cluster.sSubscribe(channel, listener).catch((err: unknown) => this.moved(err));
      }
    }
  }

  private moved(err: unknown): void {
    this.health.lost(err, true);
    // Give the cluster client a moment to learn the new owner; the bus re-asserts every
    // subscription on `back` in any case, and that follows MOVED by itself.
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.health.check(), MOVE_SETTLE_MS);
  }
}
