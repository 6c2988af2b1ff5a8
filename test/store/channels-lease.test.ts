import assert from "node:assert/strict";
import { it } from "node:test";
import { describeStores, newChannel, newOwner } from "../helpers/stores.js";

// The polling lease: which process reads a Telegram bot's getUpdates, and until when.

const LEASE = 30_000;
const T0 = 1_700_000_000_000;

describeStores("channel poll lease", ({ store, sql }) => {
  const leaseRow = async (id: string) =>
    (await sql("select poll_owner, poll_lease_until from channels where id = ?", [id]))[0];

  it("starts free; the holder renews it; nobody else gets it until it has run out", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    assert.deepEqual(await leaseRow(channel.id), { poll_owner: null, poll_lease_until: null });

    assert.equal(await store().channels.acquirePollLease(channel.id, "a", T0, LEASE), true);
    assert.deepEqual(await leaseRow(channel.id), {
      poll_owner: "a",
      poll_lease_until: T0 + LEASE,
    });
    assert.equal(await store().channels.acquirePollLease(channel.id, "b", T0 + 1, LEASE), false);
    // Renewing is the same call, and pushes the end out.
    assert.equal(await store().channels.acquirePollLease(channel.id, "a", T0 + 10, LEASE), true);
    assert.deepEqual(await leaseRow(channel.id), {
      poll_owner: "a",
      poll_lease_until: T0 + 10 + LEASE,
    });
    // Still held at its last millisecond, free just after.
    assert.equal(
      await store().channels.acquirePollLease(channel.id, "b", T0 + 10 + LEASE, LEASE),
      false,
    );
    assert.equal(
      await store().channels.acquirePollLease(channel.id, "b", T0 + 11 + LEASE, LEASE),
      true,
    );
    assert.deepEqual(await leaseRow(channel.id), {
      poll_owner: "b",
      poll_lease_until: T0 + 11 + 2 * LEASE,
    });
    // The old holder lost it: its renewal is refused.
    assert.equal(
      await store().channels.acquirePollLease(channel.id, "a", T0 + 12 + LEASE, LEASE),
      false,
    );
    // The lease leaves the rest of the channel alone.
    const stored = await store().channels.findById(channel.id);
    assert.deepEqual(stored, channel);
  });

  it("a holder whose lease ran out untaken keeps it by renewing", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    assert.equal(await store().channels.acquirePollLease(channel.id, "a", T0, LEASE), true);
    assert.equal(
      await store().channels.acquirePollLease(channel.id, "a", T0 + 5 * LEASE, LEASE),
      true,
    );
    assert.equal(
      await store().channels.acquirePollLease(channel.id, "b", T0 + 5 * LEASE + 1, LEASE),
      false,
    );
  });

  it("release frees it at once, and only the holder can release", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    assert.equal(await store().channels.acquirePollLease(channel.id, "a", T0, LEASE), true);
    await store().channels.releasePollLease(channel.id, "b");
    assert.deepEqual(await leaseRow(channel.id), {
      poll_owner: "a",
      poll_lease_until: T0 + LEASE,
    });
    assert.equal(await store().channels.acquirePollLease(channel.id, "b", T0 + 1, LEASE), false);

    await store().channels.releasePollLease(channel.id, "a");
    assert.deepEqual(await leaseRow(channel.id), { poll_owner: null, poll_lease_until: null });
    assert.equal(await store().channels.acquirePollLease(channel.id, "b", T0 + 2, LEASE), true);
    // Releasing what one no longer holds changes nothing.
    await store().channels.releasePollLease(channel.id, "a");
    assert.equal((await leaseRow(channel.id))?.poll_owner, "b");
  });

  it("of owners asking at once, exactly one wins each channel", async () => {
    const owner = await newOwner(store());
    const channels = await Promise.all(
      Array.from({ length: 12 }, () => newChannel(store(), owner.id)),
    );
    const owners = ["a", "b", "c"];
    // Free channels, then channels whose lease ran out (all held by "x" until T0 + LEASE).
    for (const id of channels.map((c) => c.id)) {
      await sql("update channels set poll_owner = ?, poll_lease_until = ? where id = ?", [
        "x",
        T0 + LEASE,
        id,
      ]);
    }
    for (const [round, now] of [
      [0, T0 + LEASE + 1],
      [1, T0 + 3 * LEASE],
    ] as const) {
      const outcomes = await Promise.all(
        channels.flatMap((channel) =>
          owners.map(async (who) => ({
            channel: channel.id,
            who,
            won: await store().channels.acquirePollLease(channel.id, `${who}${round}`, now, LEASE),
          })),
        ),
      );
      for (const channel of channels) {
        const winners = outcomes.filter((o) => o.channel === channel.id && o.won);
        assert.equal(winners.length, 1, `round ${round}, channel ${channel.id}`);
        assert.equal((await leaseRow(channel.id))?.poll_owner, `${winners[0]?.who ?? ""}${round}`);
      }
    }
  });

  it("lists the polling channels a supervisor serves", async () => {
    const owner = await newOwner(store());
    const polling = await newChannel(store(), owner.id);
    const webhook = await store().channels.create({
      ownerId: owner.id,
      platform: "telegram",
      name: "hooked",
      externalId: `hook-${polling.externalId}`,
      credentials: { botToken: "456:token", secretToken: "s" },
      mode: "webhook",
    });
    const ids = async (mode?: "polling" | "webhook") =>
      (await store().channels.listAll("telegram", mode)).map((c) => c.id);
    assert.ok((await ids("polling")).includes(polling.id));
    assert.ok(!(await ids("polling")).includes(webhook.id));
    assert.ok((await ids("webhook")).includes(webhook.id));
    assert.ok(!(await ids("webhook")).includes(polling.id));
    const all = await ids();
    assert.ok(all.includes(polling.id) && all.includes(webhook.id));
  });

  it("a removed channel has no lease to take", async () => {
    const owner = await newOwner(store());
    const channel = await newChannel(store(), owner.id);
    assert.equal(await store().channels.acquirePollLease(channel.id, "a", T0, LEASE), true);
    assert.equal(await store().channels.remove(owner.id, channel.id), true);
    assert.equal(await store().channels.acquirePollLease(channel.id, "a", T0 + 1, LEASE), false);
    await store().channels.releasePollLease(channel.id, "a");
    assert.equal(await store().channels.acquirePollLease("ch_missing", "a", T0, LEASE), false);
  });
});
