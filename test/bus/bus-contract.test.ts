import { randomBytes } from "node:crypto";
import { it } from "node:test";
import { createClient, type RedisClientType } from "@redis/client";
import { pino } from "pino";
import type { Bus } from "../../src/bus/bus.js";
import { LocalBus } from "../../src/bus/local-bus.js";
import { RedisBus } from "../../src/bus/redis-bus.js";
import {
  addressOf,
  REDIS_URL,
  redisReachable,
  reportSkip,
  servicesRequired,
} from "../helpers/cluster.js";
import { type BusKit, contract } from "./bus-contract.js";

// The contract (bus-contract.ts) over the in-process bus and over one Redis at REDIS_URL; the
// Redis Cluster run is in redis-cluster.test.ts.

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

function localKit(): BusKit {
  const bus = new LocalBus();
  return {
    open: async () => bus,
    subscribers: async () => undefined,
    dispose: () => bus.close(),
  };
}

async function redisKit(prefix: string): Promise<BusKit> {
  const admin = createClient({ url: REDIS_URL });
  admin.on("error", () => {});
  await admin.connect();
  const opened: Bus[] = [];
  return {
    async open() {
      const bus = await RedisBus.connect(REDIS_URL, log, { channelPrefix: prefix });
      opened.push(bus);
      return bus;
    },
    subscribers: (topic) => shardSubscribers(admin, prefix + topic),
    async dispose() {
      await Promise.all(opened.map((bus) => bus.close()));
      await admin.close();
    },
  };
}

type Admin = RedisClientType;

async function shardSubscribers(admin: Admin, channel: string): Promise<number> {
  const reply = (await admin.sendCommand(["PUBSUB", "SHARDNUMSUB", channel])) as unknown[];
  return Number(reply[1]);
}

contract("local", async () => localKit());

const redisAddress = addressOf(REDIS_URL, "6379");
if (await redisReachable()) {
  contract("redis", () => redisKit(`test:${randomBytes(4).toString("hex")}:`));
} else if (servicesRequired()) {
  it("bus contract [redis] needs Redis", () => {
    throw new Error(`Redis not reachable at ${redisAddress}`);
  });
} else {
  reportSkip("bus contract [redis]", `Redis not reachable at ${redisAddress}`);
}
