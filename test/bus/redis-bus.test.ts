import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, type RedisClientType } from "@redis/client";
import { pino } from "pino";
import type { BusHandler } from "../../src/bus/bus.js";
import { RedisBus } from "../../src/bus/redis-bus.js";
import type { BusEvent } from "../../src/domain/events.js";
import {
  addressOf,
  PrivateRedis,
  REDIS_URL,
  redisReachable,
  reportSkip,
  servicesRequired,
  waitFor,
} from "../helpers/cluster.js";
import { TcpProxy } from "./tcp-proxy.js";

// What only the Redis bus has to survive: foreign payloads, a lost subscriber connection, an
// outage of the whole link (a relay in front of Redis is cut, so the shared Redis stays up).

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
type Admin = RedisClientType;

const read = (seq: number): BusEvent => ({
  kind: "messages_read",
  conversationId: "c_1",
  userId: seq,
  readAt: 1_700_000_000_000 + seq,
});

function recorder(): BusHandler & { events: BusEvent[] } {
  const events: BusEvent[] = [];
  return Object.assign((event: BusEvent) => events.push(event), { events });
}

const unique = () => randomBytes(4).toString("hex");

async function shardSubscribers(admin: Admin, channel: string): Promise<number> {
  const reply = (await admin.sendCommand(["PUBSUB", "SHARDNUMSUB", channel])) as unknown[];
  return Number(reply[1]);
}

/** Ids of the connections named `name` (`CLIENT LIST`). */
async function clientIds(admin: Admin, name: string): Promise<string[]> {
  const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
  return list
    .split("\n")
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1] ?? "")
    .filter(Boolean);
}

function suite(): void {
  describe("redis bus", () => {
    let admin: Admin;
    const prefix = `test:${unique()}:`;
    const buses: RedisBus[] = [];
    const open = async (options: { url?: string; clientName?: string } = {}) => {
      const bus = await RedisBus.connect(options.url ?? REDIS_URL, log, {
        channelPrefix: prefix,
        clientName: options.clientName ?? `fiko-test-${unique()}`,
      });
      buses.push(bus);
      return bus;
    };

    before(async () => {
      admin = createClient({ url: REDIS_URL });
      admin.on("error", () => {});
      await admin.connect();
    });
    after(async () => {
      await Promise.all(buses.map((bus) => bus.close()));
      await admin?.close();
    });

    it("drops malformed payloads, logs them and keeps delivering", async () => {
      const warnings: string[] = [];
      const watched = pino(
        { level: "warn" },
        { write: (line: string) => warnings.push(JSON.parse(line).msg) },
      );
      const bus = await RedisBus.connect(REDIS_URL, watched, { channelPrefix: prefix });
      buses.push(bus);
      const topic = `conv:${unique()}`;
      const got = recorder();
      await bus.subscribe(topic, got);
      for (const junk of [
        "not json",
        "[1,2]",
        "null",
        '{"kind":"nope"}',
        '{"kind":"message_created","conversationId":"c"}',
        '{"kind":"message_created","conversationId":"c","message":{"seq":"1"}}',
        '{"kind":"typing","conversationId":"c"}',
      ]) {
        await admin.sPublish(prefix + topic, junk);
      }
      await admin.sPublish(prefix + topic, JSON.stringify(read(1)));
      await waitFor(() => got.events.length === 1, "the valid event");
      assert.deepEqual(got.events, [read(1)]);
      assert.equal(warnings.filter((msg) => msg === "dropped a malformed bus payload").length, 7);
      await bus.ping();
    });

    it("keeps serving the other handlers when one throws", async () => {
      const bus = await open();
      const topic = `conv:${unique()}`;
      const got = recorder();
      await bus.subscribe(topic, () => {
        throw new Error("handler bug");
      });
      await bus.subscribe(topic, got);
      await bus.publish(topic, read(1));
      await bus.publish(topic, read(2));
      await waitFor(() => got.events.length === 2, "both events");
      await bus.ping();
    });

    it("re-subscribes and resyncs after its subscriber connection is killed", async () => {
      const name = `fiko-test-${unique()}`;
      const bus = await open({ clientName: name });
      const other = await open();
      let resyncs = 0;
      bus.onResync(() => resyncs++);
      const topics = [`conv:${unique()}`, `owner:${unique()}`];
      const got = recorder();
      for (const topic of topics) await bus.subscribe(topic, got);

      const [subId] = await clientIds(admin, `${name}-sub`);
      assert.ok(subId, "the subscriber connection is listed");
      await admin.sendCommand(["CLIENT", "KILL", "ID", subId]);
      await waitFor(() => resyncs === 1, "resync after the reconnect");
      for (const topic of topics) assert.equal(await shardSubscribers(admin, prefix + topic), 1);
      await other.publish(topics[0] ?? "", read(1));
      await other.publish(topics[1] ?? "", read(2));
      await waitFor(() => got.events.length === 2, "delivery after the reconnect");
      await bus.ping();
      await sleep(200);
      assert.equal(resyncs, 1, "one resync per outage");
    });

    it("rides out an outage: ping and publish reject, subscriptions and peers catch up", async () => {
      const proxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
      try {
        const cut = await open({ url: proxy.url });
        const peer = await open();
        let cutResyncs = 0;
        let peerResyncs = 0;
        cut.onResync(() => cutResyncs++);
        peer.onResync(() => peerResyncs++);
        const kept = `conv:${unique()}`;
        const dropped = `conv:${unique()}`;
        const joined = `conv:${unique()}`;
        const keptGot = recorder();
        const droppedGot = recorder();
        const joinedGot = recorder();
        await cut.subscribe(kept, keptGot);
        const offDropped = await cut.subscribe(dropped, droppedGot);
        await peer.subscribe(kept, recorder());

        proxy.cut();
        await waitFor(
          () =>
            cut.ping().then(
              () => false,
              () => true,
            ),
          "ping rejects while down",
        );
        await assert.rejects(cut.publish(kept, read(1)));
        // Changes made during the outage resolve at once and take effect on reconnect.
        await offDropped();
        await cut.subscribe(joined, joinedGot);
        await sleep(300);
        assert.equal(cutResyncs, 0);

        proxy.restore();
        await waitFor(() => cutResyncs >= 1, "resync of the cut bus", 8000);
        // The lost publish is announced: a peer that never lost its link catches up too.
        await waitFor(() => peerResyncs >= 1, "resync of the peer", 8000);
        await cut.ping();
        assert.equal(await shardSubscribers(admin, prefix + kept), 2);
        assert.equal(await shardSubscribers(admin, prefix + dropped), 0);
        assert.equal(await shardSubscribers(admin, prefix + joined), 1);
        await peer.publish(kept, read(2));
        await peer.publish(joined, read(3));
        await peer.publish(dropped, read(4));
        await waitFor(
          () => keptGot.events.length === 1 && joinedGot.events.length === 1,
          "delivery after the outage",
        );
        await sleep(100);
        assert.deepEqual(keptGot.events, [read(2)]);
        assert.deepEqual(joinedGot.events, [read(3)]);
        assert.equal(droppedGot.events.length, 0);
      } finally {
        await proxy.close();
      }
    });

    it("fails to connect to an address where no Redis answers", async () => {
      const proxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
      proxy.cut();
      const started = Date.now();
      try {
        await assert.rejects(RedisBus.connect(proxy.url, log, { channelPrefix: prefix }));
        assert.ok(Date.now() - started < 15_000);
      } finally {
        await proxy.close();
      }
    });

    it("works on a Redis Cluster node, and refuses one that serves no slots", async (t) => {
      const node = await PrivateRedis.start(["--cluster-enabled", "yes"]);
      if (!node) {
        t.skip("no redis-server to start a cluster node");
        return;
      }
      const nodeAdmin: Admin = createClient({ url: node.url });
      nodeAdmin.on("error", () => {});
      const opened: RedisBus[] = [];
      try {
        // A cluster node that was never given slots: a plain error, not a failing first topic.
        await assert.rejects(
          RedisBus.connect(node.url, log, { channelPrefix: prefix }),
          /Redis Cluster .* slot/,
        );
        await nodeAdmin.connect();
        await nodeAdmin.sendCommand(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
        await waitFor(
          async () =>
            /^cluster_state:ok\b/m.test(String(await nodeAdmin.sendCommand(["CLUSTER", "INFO"]))),
          "cluster_state:ok",
        );
        const subscriber = await RedisBus.connect(node.url, log, { channelPrefix: prefix });
        opened.push(subscriber);
        const publisher = await RedisBus.connect(node.url, log, { channelPrefix: prefix });
        opened.push(publisher);
        const topic = `conv:${unique()}`;
        const got = recorder();
        await subscriber.subscribe(topic, got);
        await publisher.publish(topic, read(1));
        await waitFor(() => got.events.length === 1, "delivery through the cluster node");
        assert.deepEqual(got.events, [read(1)]);
        await subscriber.ping();
      } finally {
        await Promise.all(opened.map((bus) => bus.close()));
        if (nodeAdmin.isOpen) nodeAdmin.destroy();
        await node.stop();
      }
    });

    it("closes its connections cleanly, and refuses work afterwards", async () => {
      const name = `fiko-test-${unique()}`;
      const bus = await RedisBus.connect(REDIS_URL, log, {
        channelPrefix: prefix,
        clientName: name,
      });
      await bus.subscribe(`conv:${unique()}`, recorder());
      assert.equal((await clientIds(admin, `${name}-sub`)).length, 1);
      assert.equal((await clientIds(admin, `${name}-pub`)).length, 1);
      await bus.close();
      await bus.close();
      await waitFor(
        async () =>
          (await clientIds(admin, `${name}-sub`)).length === 0 &&
          (await clientIds(admin, `${name}-pub`)).length === 0,
        "connections gone",
      );
      await assert.rejects(bus.publish("conv:x", read(1)));
      await assert.rejects(bus.subscribe("conv:x", recorder()));
      await assert.rejects(bus.ping());
    });
  });
}

const redisAddress = addressOf(REDIS_URL, "6379");
if (await redisReachable()) {
  suite();
} else if (servicesRequired()) {
  it("redis bus needs Redis", () => {
    throw new Error(`Redis not reachable at ${redisAddress}`);
  });
} else {
  reportSkip("redis bus", `Redis not reachable at ${redisAddress}`);
}
