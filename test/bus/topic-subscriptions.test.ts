import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { type TopicLink, TopicSubscriptions } from "../../src/bus/topic-subscriptions.js";

// The refcount and the per-topic serialization, against a fake link whose commands take time,
// so that the interleavings the Redis tests can only hit by chance happen every run.

const log = pino({ level: "silent" });

class FakeLink implements TopicLink {
  ready = true;
  refuse = false;
  readonly subscribed = new Set<string>();
  readonly calls: string[] = [];
  private readonly inFlight = new Map<string, number>();
  maxInFlight = 0;

  constructor(private readonly delayMs = 5) {}

  isReady(): boolean {
    return this.ready;
  }

  subscribe(topic: string): Promise<void> {
    return this.run(`sub ${topic}`, topic, () => this.subscribed.add(topic));
  }

  unsubscribe(topic: string): Promise<void> {
    return this.run(`unsub ${topic}`, topic, () => this.subscribed.delete(topic));
  }

  private async run(call: string, topic: string, effect: () => void): Promise<void> {
    if (!this.ready) throw new Error("offline");
    if (this.refuse) throw new Error("NOPERM");
    this.calls.push(call);
    const running = (this.inFlight.get(topic) ?? 0) + 1;
    this.inFlight.set(topic, running);
    this.maxInFlight = Math.max(this.maxInFlight, running);
    await sleep(this.delayMs);
    this.inFlight.set(topic, running - 1);
    effect();
  }
}

const noop = () => {};

describe("topic subscriptions", () => {
  it("subscribes once for many handlers, unsubscribes with the last", async () => {
    const link = new FakeLink();
    const subs = new TopicSubscriptions(link, log);
    const offs = await Promise.all([1, 2, 3, 4, 5].map(() => subs.add("t", noop)));
    assert.deepEqual(link.calls, ["sub t"]);
    assert.equal(subs.handlersOf("t")?.size, 5);
    for (const off of offs.slice(0, 4)) await off();
    assert.deepEqual(link.calls, ["sub t"]);
    await offs[4]?.();
    assert.deepEqual(link.calls, ["sub t", "unsub t"]);
    assert.equal(subs.handlersOf("t"), undefined);
    assert.equal(subs.size, 0);
  });

  it("runs one command per topic at a time and ends in the wanted state", async () => {
    const link = new FakeLink(3);
    const subs = new TopicSubscriptions(link, log);
    let off = await subs.add("t", noop);
    for (let round = 0; round < 30; round++) {
      const leaving = off();
      // Every other round the new handler comes while the unsubscribe is already on the wire.
      if (round % 2 === 1) await sleep(1);
      const joining = subs.add("t", noop);
      await leaving;
      off = await joining;
    }
    assert.equal(link.maxInFlight, 1);
    assert.ok(link.subscribed.has("t"), "subscribed while a handler is there");
    await off();
    assert.equal(link.subscribed.has("t"), false);
  });

  it("defers changes while the link is down and applies them on reconcile", async () => {
    const link = new FakeLink();
    const subs = new TopicSubscriptions(link, log);
    const offKept = await subs.add("kept", noop);
    const offGone = await subs.add("gone", noop);
    link.ready = false;
    await subs.add("new", noop);
    await offGone();
    assert.deepEqual([...link.subscribed].sort(), ["gone", "kept"]);
    link.ready = true;
    await subs.reconcileAll();
    assert.deepEqual([...link.subscribed].sort(), ["kept", "new"]);
    await offKept();
    assert.deepEqual([...link.subscribed], ["new"]);
  });

  it("re-asserts on reconcile a subscription the link lost without a word", async () => {
    const link = new FakeLink();
    const subs = new TopicSubscriptions(link, log);
    await subs.add("kept", noop);
    const offGone = await subs.add("gone", noop);
    await offGone();
    // What a slot move on a Redis Cluster does: the node drops the subscription.
    link.subscribed.delete("kept");
    link.calls.length = 0;
    assert.equal(await subs.reconcileAll(), 0);
    assert.deepEqual([...link.subscribed], ["kept"]);
    assert.deepEqual(link.calls, ["sub kept"]);
  });

  it("counts the topics a reconcile could not restore", async () => {
    const link = new FakeLink();
    const subs = new TopicSubscriptions(link, log);
    await subs.add("a", noop);
    await subs.add("b", noop);
    link.refuse = true;
    assert.equal(await subs.reconcileAll(), 2);
    link.refuse = false;
    assert.equal(await subs.reconcileAll(), 0);
  });

  it("rejects a subscription the connected link refuses, keeping no handler", async () => {
    const link = new FakeLink();
    const subs = new TopicSubscriptions(link, log);
    link.refuse = true;
    await assert.rejects(subs.add("t", noop), /NOPERM/);
    assert.equal(subs.handlersOf("t"), undefined);
    link.refuse = false;
    await subs.add("t", noop);
    assert.ok(link.subscribed.has("t"));
  });
});
