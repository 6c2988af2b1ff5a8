import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Bus, BusHandler } from "../../src/bus/bus.js";
import type { BusEvent } from "../../src/domain/events.js";
import type { Message } from "../../src/domain/types.js";
import { waitFor } from "../helpers/cluster.js";
import { sampleMessage } from "../helpers/sample-message.js";

// The cases every bus must pass: what the gateway relies on holds for the in-process bus, for
// one Redis and for a Redis Cluster alike. Redis kits use a channel prefix of their own, so runs
// sharing a Redis never see each other's topics and the subscriber counts below are exact.

export interface BusKit {
  /** A bus as one process has it; the Redis kit gives each call its own connections. */
  open(): Promise<Bus>;
  /** Shard subscriptions that Redis holds for `topic` (on all nodes); undefined for the local bus. */
  subscribers(topic: string): Promise<number | undefined>;
  dispose(): Promise<void>;
}

export const topicName = () => `conv:t_${randomBytes(5).toString("hex")}`;

const messageAt = (seq: number): Message =>
  sampleMessage({ id: `m_${seq}`, seq, content: `hello ${seq} ✓ "quoted" \\ back` });

export const created = (seq: number): BusEvent => ({
  kind: "message_created",
  conversationId: "c_1",
  message: messageAt(seq),
});

/** A handler that records what it receives. */
export function recorder(): BusHandler & { events: BusEvent[] } {
  const events: BusEvent[] = [];
  return Object.assign((event: BusEvent) => events.push(event), { events });
}

function seqs(events: BusEvent[]): number[] {
  return events.map((event) => (event.kind === "message_created" ? event.message.seq : -1));
}

/** Enough time for a message that was going to arrive to have arrived. */
export const settle = () => sleep(100);

export function contract(name: string, makeKit: () => Promise<BusKit>): void {
  describe(`bus contract [${name}]`, () => {
    let kit: BusKit;
    let a: Bus;
    let b: Bus;
    before(async () => {
      kit = await makeKit();
      a = await kit.open();
      b = await kit.open();
    });
    after(async () => {
      await kit?.dispose();
    });

    it("delivers a published event to the topic's subscribers only, unchanged", async () => {
      const topic = topicName();
      const mine = recorder();
      const other = recorder();
      await a.subscribe(topic, mine);
      await a.subscribe(topicName(), other);
      await b.publish(topic, created(1));
      await waitFor(() => mine.events.length === 1, "the event");
      assert.deepEqual(mine.events[0], created(1));
      await settle();
      assert.equal(other.events.length, 0);
    });

    it("keeps one publisher's events in order", async () => {
      const topic = topicName();
      const got = recorder();
      await a.subscribe(topic, got);
      for (let seq = 1; seq <= 50; seq++) await b.publish(topic, created(seq));
      await waitFor(() => got.events.length === 50, "50 events");
      assert.deepEqual(
        seqs(got.events),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    it("serves two handlers of one topic with one subscription", async () => {
      const topic = topicName();
      const first = recorder();
      const second = recorder();
      const offFirst = await a.subscribe(topic, first);
      const offSecond = await a.subscribe(topic, second);
      const count = await kit.subscribers(topic);
      if (count !== undefined) assert.equal(count, 1);
      await b.publish(topic, created(1));
      await waitFor(() => first.events.length === 1 && second.events.length === 1, "both");
      await offFirst();
      await offSecond();
    });

    it("keeps delivering to the other handler when one unsubscribes", async () => {
      const topic = topicName();
      const first = recorder();
      const second = recorder();
      const offFirst = await a.subscribe(topic, first);
      const offSecond = await a.subscribe(topic, second);
      await offFirst();
      await offFirst(); // a second call changes nothing
      const count = await kit.subscribers(topic);
      if (count !== undefined) assert.equal(count, 1);
      await b.publish(topic, created(1));
      await waitFor(() => second.events.length === 1, "the remaining handler");
      await settle();
      assert.equal(first.events.length, 0);
      await offSecond();
    });

    it("stops delivery and drops the subscription when the last handler leaves", async () => {
      const topic = topicName();
      const got = recorder();
      const off = await a.subscribe(topic, got);
      await off();
      const count = await kit.subscribers(topic);
      if (count !== undefined) assert.equal(count, 0);
      await b.publish(topic, created(1));
      await settle();
      assert.equal(got.events.length, 0);
    });

    it("never leaves a wanted topic unsubscribed when unsubscribe races subscribe", async () => {
      const topic = topicName();
      let off = await a.subscribe(topic, recorder());
      for (let round = 0; round < 20; round++) {
        const leaving = off();
        const joining = a.subscribe(topic, recorder());
        await leaving;
        off = await joining;
      }
      const last = recorder();
      // The last racing pair, with nothing awaited in between.
      void off();
      await a.subscribe(topic, last);
      const count = await kit.subscribers(topic);
      if (count !== undefined) assert.equal(count, 1);
      await b.publish(topic, created(1));
      await waitFor(() => last.events.length === 1, "delivery after the race");
    });

    it("receives what is published right after subscribe resolved", async () => {
      for (let i = 0; i < 10; i++) {
        const topic = topicName();
        const got = recorder();
        await a.subscribe(topic, got);
        await b.publish(topic, created(i + 1));
        await waitFor(() => got.events.length === 1, `event ${i}`);
      }
    });

    it("answers ping while connected", async () => {
      await a.ping();
      await b.ping();
    });
  });
}
