import {
  createClient,
  createCluster,
  type RedisClientType,
  type RedisClusterType,
} from "@redis/client";
import type { Logger } from "pino";
import { CONNECT_TIMEOUT_MS, isClusterNode, quit } from "../bus/redis-connections.js";

const MAX_RECONNECT_DELAY_MS = 2000;
const INITIAL_CONNECT_ATTEMPTS = 8;

/**
 * The Redis connection of the abuse limits, apart from the bus's: a slow limit check must never
 * hold up fan-out. No offline queue, so that while Redis is down a check fails at once and the
 * limiter falls back to this process's own counts instead of waiting.
 */
export interface LimitsRedis {
  /** Handed to rate-limiter-flexible, which knows both node-redis client kinds. */
  readonly client: RedisClientType | RedisClusterType;
  readonly isReady: boolean;
  /** EVAL of a one-key script (routed to the key's node on a cluster). */
  evalScript(script: string, key: string, args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

export async function connectLimitsRedis(url: string, log: Logger): Promise<LimitsRedis> {
  const started = { done: false };
  const reconnectStrategy = (retries: number, cause: Error): number | Error => {
    if (!started.done && retries >= INITIAL_CONNECT_ATTEMPTS) return cause;
    return Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 100);
  };
  let down = false;
  const onError = (err: unknown) => {
    if (down || !started.done) return;
    down = true;
    log.warn({ err }, "limits redis connection lost; limits hold per process until it is back");
  };
  const onReady = () => {
    if (!down) return;
    down = false;
    log.info("limits redis connection back; limits hold across processes again");
  };
  const socket = { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy };
  if (await isClusterNode(url, reconnectStrategy)) {
    const cluster: RedisClusterType = createCluster({
      rootNodes: [{ url }],
      defaults: { name: "fiko-limits", disableOfflineQueue: true, socket },
    });
    cluster.on("error", onError);
    cluster.on("node-ready", onReady);
    await cluster.connect();
    started.done = true;
    return {
      client: cluster,
      get isReady() {
        return cluster.isReady;
      },
      evalScript: (script, key, args) => cluster.eval(script, { keys: [key], arguments: args }),
      close: async () => {
        if (!cluster.isOpen) return;
        try {
          await cluster.close();
        } catch {
          cluster.destroy();
        }
      },
    };
  }
  const client: RedisClientType = createClient({
    url,
    name: "fiko-limits",
    disableOfflineQueue: true,
    socket,
  });
  client.on("error", onError);
  client.on("ready", onReady);
  await client.connect();
  started.done = true;
  return {
    client,
    get isReady() {
      return client.isReady;
    },
    evalScript: (script, key, args) => client.eval(script, { keys: [key], arguments: args }),
    close: () => quit(client),
  };
}
