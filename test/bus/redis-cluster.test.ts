import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createCluster } from "@redis/client";
import { pino } from "pino";
import { RedisBus } from "../../src/bus/redis-bus.js";
import type { BusEvent } from "../../src/domain/events.js";
import { reportSkip, servicesRequired, waitFor } from "../helpers/cluster.js";
import { RedisTestCluster, redisClusterToolsInstalled } from "../helpers/redis-cluster.js";
import { type BusKit, contract, created, recorder, settle, topicName } from "./bus-contract.js";

// The Redis bus on a Redis Cluster of three primaries that this suite starts: the bus contract,
// then what only a cluster has (channels on several nodes, a node that crashes, a slot that
// moves).

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const unique = () => randomBytes(4).toString("hex");

/** Subscriptions that the cluster holds for `channel`, summed over its nodes. */
async function subscribers(cluster: RedisTestCluster, channel: string): Promise<number> {
  const replies = await cluster.onLive(["PUBSUB", "SHARDNUMSUB", channel]);
  return replies.reduce<number>((sum, reply) => sum + Number((reply as unknown[])[1]), 0);
}

/** Per node, how many subscriptions to `channel` it holds. */
async function holders(cluster: RedisTestCluster, channel: string): Promise<number[]> {
  const replies = await cluster.onEach(["PUBSUB", "SHARDNUMSUB", channel]);
  return replies.map((reply) => Number((reply as unknown[])[1]));
}

/** The index of the node that holds `channel`'s subscription. */
async function holder(cluster: RedisTestCluster, channel: string): Promise<number> {
  const counts = await holders(cluster, channel);
  const index = counts.findIndex((count) => count > 0);
  assert.ok(index >= 0, `some node holds ${channel}`);
  return index;
}

/** `perNode` topics whose channels (`prefix` + topic) live on each node. */
async function topicsOnEveryNode(
  cluster: RedisTestCluster,
  prefix: string,
  perNode: number,
): Promise<string[][]> {
  const byNode: string[][] = Array.from({ length: cluster.size }, () => []);
  while (byNode.some((topics) => topics.length < perNode)) {
    const topic = topicName();
    const topics = byNode[await cluster.nodeOf(prefix + topic)];
    if (topics && topics.length < perNode) topics.push(topic);
  }
  return byNode;
}

/** Names of the connections on every node whose name starts with `name`. */
async function connectionNames(cluster: RedisTestCluster, name: string): Promise<string[][]> {
  const lists = await cluster.onEach(["CLIENT", "LIST"]);
  return lists.map((list) =>
    String(list)
      .split("\n")
      .map((line) => / name=(\S*) /.exec(line)?.[1] ?? "")
      .filter((found) => found.startsWith(name)),
  );
}

const read = (seq: number): BusEvent => ({
  kind: "messages_read",
  conversationId: "c_1",
  userId: seq,
  readAt: 1_700_000_000_000 + seq,
});

function suite(): void {
  describe("redis cluster", () => {
    let cluster: RedisTestCluster | undefined;
    const prefix = `test:${unique()}:`;
    const buses: RedisBus[] = [];
    let opened = 0;
    const started = (): RedisTestCluster => {
      if (!cluster) throw new Error("the cluster did not start");
      return cluster;
    };
    /** A bus through node `node` (by default each in turn: any node will do as REDIS_URL). */
    const open = async (
      options: { node?: number; clientName?: string; channelPrefix?: string } = {},
    ) => {
      const nodes = started();
      const bus = await RedisBus.connect(nodes.urlOf(options.node ?? opened++ % nodes.size), log, {
        channelPrefix: options.channelPrefix ?? prefix,
        clientName: options.clientName ?? `fiko-test-${unique()}`,
      });
      buses.push(bus);
      return bus;
    };

    before(async () => {
      // Nodes that stop answering are failed over after a second (the crash and failover cases).
      cluster = await RedisTestCluster.start(3, { nodeTimeoutMs: 1000 });
    });
    after(async () => {
      await Promise.allSettled(buses.map((bus) => bus.close()));
      await cluster?.stop();
    });

    contract("redis cluster", async (): Promise<BusKit> => {
      const kitPrefix = `test:${unique()}:`;
      return {
        open: () => open({ channelPrefix: kitPrefix }),
        subscribers: (topic) => subscribers(started(), kitPrefix + topic),
        dispose: async () => {},
      };
    });

    it("spreads the topics over the primaries", async () => {
      const nodes = started();
      const own = `test:${unique()}:`;
      const bus = await open({ channelPrefix: own });
      const other = await open({ channelPrefix: own });
      const topics = Array.from({ length: 20 }, topicName);
      const got = recorder();
      for (const topic of topics) await bus.subscribe(topic, got);
      const perNode = await nodes.onEach(["PUBSUB", "SHARDCHANNELS", `${own}conv:*`]);
      const counts = perNode.map((channels) => (channels as unknown[]).length);
      assert.equal(
        counts.reduce((a, b) => a + b, 0),
        20,
        `every topic subscribed once: ${counts}`,
      );
      assert.ok(
        counts.filter((count) => count > 0).length > 1,
        `more than one node used: ${counts}`,
      );
      for (const [i, topic] of topics.entries()) await other.publish(topic, created(i + 1));
      await waitFor(() => got.events.length === 20, "an event on every topic");
    });

    it("drops malformed payloads on any node and keeps delivering", async () => {
      const nodes = started();
      const warnings: string[] = [];
      const watched = pino(
        { level: "warn" },
        { write: (line: string) => warnings.push(JSON.parse(line).msg) },
      );
      const bus = await RedisBus.connect(nodes.url, watched, { channelPrefix: prefix });
      buses.push(bus);
      const raw = createCluster({ rootNodes: [{ url: nodes.urlOf(2) }] });
      raw.on("error", () => {});
      await raw.connect();
      try {
        const topics = Array.from({ length: 6 }, topicName);
        const got = recorder();
        for (const topic of topics) await bus.subscribe(topic, got);
        for (const topic of topics) await raw.sPublish(prefix + topic, '{"kind":"nope"}');
        for (const topic of topics) await raw.sPublish(prefix + topic, JSON.stringify(read(1)));
        await waitFor(() => got.events.length === 6, "the valid events");
        assert.equal(warnings.filter((msg) => msg === "dropped a malformed bus payload").length, 6);
      } finally {
        await raw.close();
      }
    });

    it("re-subscribes and resyncs after every subscriber connection is killed", async () => {
      const nodes = started();
      const bus = await open();
      const other = await open();
      let resyncs = 0;
      bus.onResync(() => resyncs++);
      const topics = (await topicsOnEveryNode(nodes, prefix, 4)).flat();
      const got = recorder();
      for (const topic of topics) await bus.subscribe(topic, got);
      for (const topic of topics) assert.equal(await subscribers(nodes, prefix + topic), 1);

      const killed = await nodes.onEach(["CLIENT", "KILL", "TYPE", "pubsub"]);
      assert.ok(
        killed.every((count) => Number(count) >= 1),
        `killed on every node: ${killed}`,
      );
      await waitFor(() => resyncs >= 1, "resync after the reconnect");
      for (const topic of topics) assert.equal(await subscribers(nodes, prefix + topic), 1);
      for (const [i, topic] of topics.entries()) await other.publish(topic, created(i + 1));
      await waitFor(() => got.events.length === 12, "delivery after the reconnect");
      await bus.ping();
      const settled = resyncs;
      await sleep(300);
      assert.equal(resyncs, settled, "no resync without an outage");
    });

    it("rides out a primary that crashes: its shard pauses, the others go on, all catch up", async () => {
      const nodes = started();
      const bus = await open({ node: 0 });
      const peer = await open({ node: 2 });
      let busResyncs = 0;
      let peerResyncs = 0;
      bus.onResync(() => busResyncs++);
      peer.onResync(() => peerResyncs++);
      const byNode = await topicsOnEveryNode(nodes, prefix, 2);
      const topics = byNode.flat();
      const got = new Map(topics.map((topic) => [topic, recorder()]));
      for (const topic of topics) await bus.subscribe(topic, got.get(topic) ?? recorder());
      const onVictim = byNode[1]?.[0] ?? "";
      const elsewhere = byNode[2]?.[0] ?? "";

      await nodes.kill(1);
      await waitFor(
        () =>
          bus.ping().then(
            () => false,
            () => true,
          ),
        "ping rejects while a primary is down",
      );
      await assert.rejects(peer.publish(onVictim, read(1)));
      // The other shards keep working meanwhile.
      await peer.publish(elsewhere, read(2));
      await waitFor(() => got.get(elsewhere)?.events.length === 1, "delivery on a live shard");
      assert.equal(busResyncs, 0);

      await nodes.restart(1);
      await waitFor(() => busResyncs >= 1, "resync of the subscriber", 8000);
      // The publish lost on node 1 is announced: every process resyncs.
      await waitFor(() => peerResyncs >= 1, "resync of the publisher", 8000);
      await waitFor(
        () =>
          bus.ping().then(
            () => true,
            () => false,
          ),
        "ping answers again",
      );
      for (const topic of topics) assert.equal(await subscribers(nodes, prefix + topic), 1);
      await peer.publish(onVictim, read(3));
      await waitFor(() => got.get(onVictim)?.events.length === 1, "delivery on the restarted node");
      assert.deepEqual(got.get(onVictim)?.events, [read(3)]);
    });

    it("follows a channel whose slot moves to another primary, then resyncs", async () => {
      const nodes = started();
      const bus = await open();
      const peer = await open();
      let resyncs = 0;
      bus.onResync(() => resyncs++);
      const topic = topicName();
      const got = recorder();
      await bus.subscribe(topic, got);
      const channel = prefix + topic;
      const from = await holder(nodes, channel);
      const to = (from + 1) % nodes.size;
      const slot = String(await nodes.admin(0).sendCommand(["CLUSTER", "KEYSLOT", channel]));
      const target = String(await nodes.admin(to).sendCommand(["CLUSTER", "MYID"]));
      // An empty slot moves by decree: the new owner first, then the others.
      for (const i of [to, from, 3 - to - from]) {
        await nodes.admin(i).sendCommand(["CLUSTER", "SETSLOT", slot, "NODE", target]);
      }
      await waitFor(() => resyncs >= 1, "resync after the move");
      await waitFor(
        async () =>
          (await holders(nodes, channel)).join() ===
          [0, 1, 2].map((i) => (i === to ? 1 : 0)).join(),
        "the subscription on the new owner only",
      );
      await peer.publish(topic, read(1));
      await waitFor(() => got.events.length === 1, "delivery after the move");
      await bus.ping();
    });

    it("closes its connections on every node, and refuses work afterwards", async () => {
      const nodes = started();
      const name = `fiko-test-${unique()}`;
      const bus = await open({ clientName: name });
      // Channels on every primary: six random ones all fell on one primary in about one run
      // in 250, which left a single subscriber connection.
      const topics = (await topicsOnEveryNode(nodes, prefix, 2)).flat();
      for (const topic of topics) await bus.subscribe(topic, recorder());
      const names = await connectionNames(nodes, name);
      const perPrimary = (suffix: string) =>
        names.map((onNode) => onNode.filter((found) => found === `${name}-${suffix}`).length);
      assert.deepEqual(perPrimary("pub"), [1, 1, 1], "one publishing connection per primary");
      assert.deepEqual(perPrimary("sub"), [1, 1, 1], "one subscriber connection per primary");
      await bus.close();
      await bus.close();
      await waitFor(
        async () => (await connectionNames(nodes, name)).flat().length === 0,
        "connections gone",
      );
      await assert.rejects(bus.publish("conv:x", read(1)));
      await assert.rejects(bus.subscribe("conv:x", recorder()));
      await assert.rejects(bus.ping());
      await settle();
    });

    // Last: it leaves a primary dead and a replica in its place.
    it("follows a failover: a replica takes over the channels of a crashed primary", async () => {
      const nodes = started();
      const bus = await open({ node: 0 });
      const peer = await open({ node: 2 });
      let resyncs = 0;
      bus.onResync(() => resyncs++);
      const topics = (await topicsOnEveryNode(nodes, prefix, 2)).flat();
      const got = recorder();
      for (const topic of topics) await bus.subscribe(topic, got);
      // A node the buses have never seen: they learn it from the topology after the failover.
      const replica = await nodes.addReplica(1);

      const killedAt = Date.now();
      await nodes.kill(1);
      await waitFor(async () => (await nodes.role(replica)) === "master", "promotion", 10_000);
      const promotedAt = Date.now();
      await waitFor(() => resyncs >= 1, "resync after the failover", 15_000);
      // Both buses: the publishing peer learns the new topology on its own schedule, and a
      // publish routed to the dead primary before that fails ("The client is offline").
      const answers = (b: RedisBus) =>
        b.ping().then(
          () => true,
          () => false,
        );
      await waitFor(
        async () => (await answers(bus)) && (await answers(peer)),
        "ping answers again",
        10_000,
      );
      console.log(
        `figure: failover, replica promoted ${promotedAt - killedAt} ms after the kill, bus whole again after ${Date.now() - killedAt} ms`,
      );
      for (const topic of topics) assert.equal(await subscribers(nodes, prefix + topic), 1);
      for (const [i, topic] of topics.entries()) await peer.publish(topic, created(i + 1));
      await waitFor(() => got.events.length === topics.length, "delivery on every shard");
    });
  });
}

if (redisClusterToolsInstalled()) {
  suite();
} else if (servicesRequired()) {
  it("redis cluster suite needs redis-server", () => {
    throw new Error("redis-server and redis-cli not found on the PATH");
  });
} else {
  reportSkip("redis cluster suite", "redis-server not found");
}
