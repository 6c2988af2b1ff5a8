import { createClient, type RedisClientType } from "@redis/client";

/** A sharded pub/sub listener: the payload and the channel it came on. */
export type ShardListener = (message: string, channel: string) => void;

/** What one side (publishing or subscribing) of the bus reports about its connections. */
export interface ConnectionEvents {
  /** A connection this side needs went down; reported once until `back`. */
  lost(err: unknown): void;
  /** Every connection this side needs is up again after `lost`. */
  back(): void;
}

/**
 * One side of the bus: the connection to a plain Redis (`NodeConnection`), or the connections
 * to every primary of a Redis Cluster (`ClusterConnection`). Either reconnects by itself, keeps
 * no offline queue (a command sent while a needed connection is down fails at once) and
 * restores the subscriptions it held when a connection comes back, before reporting `back`.
 */
export interface RedisConnection {
  /** Whether commands can go out now: no connection that this side holds is down. */
  readonly isReady: boolean;
  /** Rejects when Redis cannot be reached within a few seconds. */
  connect(events: ConnectionEvents): Promise<void>;
  sPublish(channel: string, message: string): Promise<void>;
  /** Subscribing a channel this side already holds only adds the listener. */
  sSubscribe(channel: string, listener: ShardListener): Promise<void>;
  sUnsubscribe(channel: string, listener: ShardListener): Promise<void>;
  /** PING on every connection that publishes; rejects after `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** Quits gracefully; destroys what does not close within a moment. */
  close(): Promise<void>;
  destroy(): void;
}

export type ReconnectStrategy = (retries: number, cause: Error) => number | Error;

export interface ConnectionSettings {
  /** `redis[s]://[user:password@]host[:port][/db]`; for a cluster, any one of its nodes. */
  url: string;
  /** The name of every connection of this side (`CLIENT LIST`). */
  name: string;
  reconnectStrategy: ReconnectStrategy;
}

export const CONNECT_TIMEOUT_MS = 5000;
const CLOSE_TIMEOUT_MS = 2000;

/**
 * Turns the raw events of the clients behind one side into `lost` once per outage and `back`
 * once it is over. `isReady` is the side's own view, so an error that did not cost a connection
 * is no outage.
 */
export class Health {
  private started = false;
  private down = false;
  private events: ConnectionEvents | undefined;

  constructor(private readonly isReady: () => boolean) {}

  /** From now on, losses count: before, a failure is the caller's connect error. */
  start(events: ConnectionEvents): void {
    this.events = events;
    this.started = true;
  }

  stop(): void {
    this.started = false;
  }

  /** A client reported an error or a reconnect; `force` when it is an outage regardless. */
  lost(err: unknown, force = false): void {
    if (!this.started || this.down || (!force && this.isReady())) return;
    this.down = true;
    this.events?.lost(err);
  }

  /** A client is (re)connected: reports `back` when that ended an outage. */
  check(): void {
    if (!this.started || !this.down || !this.isReady()) return;
    this.down = false;
    this.events?.back();
  }
}

type Client = RedisClientType;

/** One connection to a plain Redis (or to one primary that serves every slot). */
export class NodeConnection implements RedisConnection {
  private readonly client: Client;
  private readonly health = new Health(() => this.client.isReady);

  constructor(settings: ConnectionSettings) {
    this.client = createClient({
      url: settings.url,
      name: settings.name,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: settings.reconnectStrategy,
      },
    }) as Client;
  }

  get isReady(): boolean {
    return this.client.isReady;
  }

  async connect(events: ConnectionEvents): Promise<void> {
    this.client.on("error", (err: unknown) => this.health.lost(err));
    this.client.on("reconnecting", () => this.health.lost(undefined));
    // The client re-sends the subscriptions it holds before it reports ready.
    this.client.on("ready", () => this.health.check());
    await this.client.connect();
    this.health.start(events);
  }

  async sPublish(channel: string, message: string): Promise<void> {
    await this.client.sPublish(channel, message);
  }

  sSubscribe(channel: string, listener: ShardListener): Promise<void> {
    return this.client.sSubscribe(channel, listener);
  }

  sUnsubscribe(channel: string, listener: ShardListener): Promise<void> {
    return this.client.sUnsubscribe(channel, listener);
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.client.withAbortSignal(AbortSignal.timeout(timeoutMs)).ping();
  }

  async close(): Promise<void> {
    this.health.stop();
    await quit(this.client);
  }

  destroy(): void {
    this.health.stop();
    if (this.client.isOpen) this.client.destroy();
  }
}

/**
 * Whether the Redis at `url` is a node of a Redis Cluster (`INFO cluster`), asked on a
 * connection of its own that is closed again. Rejects when Redis cannot be reached.
 */
export async function isClusterNode(
  url: string,
  reconnectStrategy: ReconnectStrategy,
): Promise<boolean> {
  const probe = createClient({
    url,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy },
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return /^cluster_enabled:1\b/m.test(String(await probe.info("cluster")));
  } finally {
    if (probe.isOpen) probe.destroy();
  }
}

/** `client.close()`, or `destroy()` when that does not finish within `CLOSE_TIMEOUT_MS`. */
export async function quit(client: {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  close(): Promise<unknown>;
  destroy(): void;
}): Promise<void> {
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
  await Promise.race([client.close().catch(() => client.destroy()), timeout]);
  clearTimeout(timer);
}
