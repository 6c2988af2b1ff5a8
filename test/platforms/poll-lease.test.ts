import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { hashPassword } from "../../src/auth/passwords.js";
import { createLogger } from "../../src/logger.js";
import { PollSupervisor } from "../../src/platforms/telegram/poll-supervisor.js";
import { createSqlStore } from "../../src/store/sql/create-store.js";
import type { ChannelStore } from "../../src/store/store.js";
import { type FreshDatabase, freshDatabase, postgresReachable } from "../helpers/cluster.js";
import { botToken } from "../helpers/fake-telegram.js";
import { api, registerUser, type TestServer, type TestUser } from "../helpers/server.js";
import {
  newChannel,
  newOwner,
  type OpenedStore,
  openStore,
  storeKinds,
  unique,
} from "../helpers/stores.js";
import {
  connectTelegram,
  conversations,
  eventually,
  messagesOf,
  type Platforms,
  privateMessage,
  startFakes,
  startPlatformServer,
  telegramUser,
} from "./support.js";

// Several processes on one database, no PUBLIC_URL: each polling channel is read by exactly one
// of them (the holder of its lease), and another takes over when that one stops or dies.
// Two servers in this process stand for two processes; they share PostgreSQL when it is
// reachable, else one SQLite file.

const LEASE_MS = 1200;
const ROUND_MS = LEASE_MS / 12;
/** The lease a "crashed" process left behind in the database before the servers started. */
const DEAD_LEASE_MS = 2500;
const PASSWORD = "correct horse battery";

const usePostgres = storeKinds().includes("postgres") && (await postgresReachable());

describe(`telegram polling across processes [${usePostgres ? "postgres" : "sqlite"}]`, () => {
  let fakes: Platforms;
  let database: FreshDatabase | undefined;
  let sqliteDir: string | undefined;
  let servers: TestServer[] = [];
  /** A channel whose lease a process that died still held, seeded before the servers start. */
  let orphan: { id: string; token: string; user: TestUser; leaseEnds: number };

  const startNode = () =>
    startPlatformServer(fakes, {
      polling: true,
      dataDir: sqliteDir,
      env: {
        TELEGRAM_POLL_LEASE_MS: String(LEASE_MS),
        ...(database ? { DATABASE_URL: database.url } : {}),
      },
    });
  const pollsOf = (token: string) =>
    fakes.telegram.callsTo("getUpdates").filter((c) => c.token === token);
  const pollersOf = (channelId: string) =>
    servers.filter((s) => s.server.platforms?.polledChannels().includes(channelId));
  const onePoller = (channelId: string) => {
    const found = pollersOf(channelId);
    return found.length === 1 ? found[0] : undefined;
  };
  const texts = async (server: TestServer, user: TestUser, title: string) => {
    const conv = (await conversations(server, user)).find((c) => c.title === title);
    if (!conv) return [];
    return (await messagesOf(server, user, String(conv.id))).map((m) => m.content);
  };

  before(async () => {
    fakes = await startFakes();
    if (usePostgres) database = await freshDatabase("fiko_poll");
    else sqliteDir = mkdtempSync(join(tmpdir(), "fiko-poll-lease-"));

    // A process that connected a bot, polled it up to offset 42, and died holding its lease.
    const seed = await createSqlStore(
      database
        ? { databaseUrl: database.url }
        : { sqlitePath: join(sqliteDir ?? "", "fiko.sqlite") },
    );
    await seed.migrate();
    const username = unique("orphan_owner");
    const user = await seed.users.create({
      username,
      passwordHash: await hashPassword(PASSWORD),
      firstName: "Orphan",
      lastName: "Owner",
    });
    const token = fakes.telegram.addBot(botToken());
    const channel = await seed.channels.create({
      ownerId: user.id,
      platform: "telegram",
      name: "@orphan_bot",
      externalId: token.split(":")[0] ?? "",
      credentials: { botToken: token, secretToken: "unused" },
      mode: "polling",
    });
    await seed.channels.setPollOffset(channel.id, 42);
    const leasedAt = Date.now();
    assert.equal(
      await seed.channels.acquirePollLease(channel.id, "gone-host:999:0", leasedAt, DEAD_LEASE_MS),
      true,
    );
    await seed.close();

    servers = [await startNode(), await startNode()];
    const login = await api<{ access: string; refresh: string }>(
      servers[0] as TestServer,
      "POST",
      "/api/auth/token/",
      { body: { username, password: PASSWORD } },
    );
    orphan = {
      id: channel.id,
      token,
      user: { id: user.id, username, access: login.body.access, refresh: login.body.refresh },
      leaseEnds: leasedAt + DEAD_LEASE_MS,
    };
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await fakes.close();
    await database?.drop();
    if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
  });

  const first = () => servers[0] as TestServer;
  const second = () => servers[1] as TestServer;

  it("polls each channel from exactly one process, whichever created it", async () => {
    const owner = await registerUser(first());
    const viaFirst = await connectTelegram(first(), fakes, owner);
    const viaSecond = await connectTelegram(second(), fakes, owner);
    for (const channel of [viaFirst, viaSecond]) {
      await eventually(() => (pollsOf(channel.token).length > 0 ? true : undefined));
    }
    // Several rounds of renewals and attempts by the other process change nothing.
    await sleep(6 * ROUND_MS);
    for (const channel of [viaFirst, viaSecond]) {
      assert.equal(pollersOf(channel.id).length, 1);
      assert.equal(fakes.telegram.pollsOpen(channel.token), 1);
      assert.equal(fakes.telegram.peakPollsOpen(channel.token), 1);
      // One long poll, held open: nobody was refused and retried.
      assert.equal(pollsOf(channel.token).length, 1);
    }

    const from = telegramUser({ first_name: "Una", last_name: "Once" });
    const update = privateMessage(from, { text: "only once" });
    fakes.telegram.pushUpdate(viaSecond.token, update);
    await eventually(() =>
      pollsOf(viaSecond.token).some((c) => c.body.offset === update.update_id + 1)
        ? true
        : undefined,
    );
    await sleep(3 * ROUND_MS);
    for (const server of servers) {
      assert.deepEqual(await texts(server, owner, "telegram - Una Once"), ["only once"]);
    }
    assert.equal(fakes.telegram.peakPollsOpen(viaSecond.token), 1);
  });

  it("starts polling a channel created elsewhere within a round", async () => {
    const owner = await registerUser(first());
    const token = fakes.telegram.addBot(botToken());
    // Written straight to the database, as by a process that did not try for the lease itself.
    const createdAt = Date.now();
    const channel = await first().server.store.channels.create({
      ownerId: owner.id,
      platform: "telegram",
      name: "@elsewhere_bot",
      externalId: token.split(":")[0] ?? "",
      credentials: { botToken: token, secretToken: "unused" },
      mode: "polling",
    });
    const [poll] = await eventually(() => {
      const polls = pollsOf(token);
      return polls.length > 0 ? polls : undefined;
    });
    assert.ok(poll && poll.at - createdAt < LEASE_MS / 2, `first poll after ${poll?.at}`);
    await sleep(4 * ROUND_MS);
    assert.equal(pollersOf(channel.id).length, 1);
    assert.equal(fakes.telegram.peakPollsOpen(token), 1);
  });

  it("hands polling over when the polling process stops, losing and repeating nothing", async () => {
    const owner = await registerUser(first());
    const channel = await connectTelegram(first(), fakes, owner);
    const from = telegramUser({ first_name: "Hand", last_name: "Over" });
    const before = privateMessage(from, { text: "before the handover" });
    fakes.telegram.pushUpdate(channel.token, before);
    await eventually(() =>
      pollsOf(channel.token).some((c) => c.body.offset === before.update_id + 1) ? true : undefined,
    );
    const leaving = await eventually(() => onePoller(channel.id));
    const staying = servers.find((s) => s !== leaving) as TestServer;
    const pollsBefore = pollsOf(channel.token).length;

    await leaving.close();
    servers = [staying];
    const stoppedAt = Date.now();
    const during = privateMessage(from, { text: "during the handover" });
    fakes.telegram.pushUpdate(channel.token, during);

    await eventually(() =>
      staying.server.platforms?.polledChannels().includes(channel.id) ? true : undefined,
    );
    const resumed = await eventually(() => pollsOf(channel.token)[pollsBefore]);
    // Released on stop: taken at the next round, not when the lease would have run out.
    assert.ok(resumed.at - stoppedAt < LEASE_MS / 2, `took ${resumed.at - stoppedAt} ms`);
    assert.equal(resumed.body.offset, before.update_id + 1);
    await eventually(() =>
      pollsOf(channel.token).some((c) => c.body.offset === during.update_id + 1) ? true : undefined,
    );
    assert.deepEqual(await texts(staying, owner, "telegram - Hand Over"), [
      "before the handover",
      "during the handover",
    ]);
    assert.equal(fakes.telegram.peakPollsOpen(channel.token), 1);

    servers.push(await startNode());
    await sleep(4 * ROUND_MS);
    assert.equal(pollersOf(channel.id).length, 1);
    assert.equal(fakes.telegram.peakPollsOpen(channel.token), 1);
  });

  it("stops polling a channel everywhere when it is removed on any process", async () => {
    const owner = await registerUser(first());
    const channel = await connectTelegram(first(), fakes, owner);
    const poller = await eventually(() => onePoller(channel.id));
    // Removed through the process that does not poll it.
    const other = servers.find((s) => s !== poller) as TestServer;
    const res = await api(other, "DELETE", `/api/channels/${channel.id}/`, {
      token: owner.access,
    });
    assert.equal(res.status, 204);
    await eventually(() => (fakes.telegram.pollsOpen(channel.token) === 0 ? true : undefined));
    assert.deepEqual(pollersOf(channel.id), []);
    const polls = pollsOf(channel.token).length;
    fakes.telegram.pushUpdate(channel.token, privateMessage(telegramUser(), { text: "late" }));
    await sleep(4 * ROUND_MS);
    assert.equal(pollsOf(channel.token).length, polls);
    assert.deepEqual(await conversations(other, owner), []);
  });

  it("takes over a dead process's channel once its lease ran out, from the stored offset", async () => {
    const [poll] = await eventually(() => {
      const polls = pollsOf(orphan.token);
      return polls.length > 0 ? polls : undefined;
    }, DEAD_LEASE_MS + 3000);
    assert.ok(poll);
    // Nobody polled while the dead process's lease ran, and someone did soon after.
    assert.ok(poll.at > orphan.leaseEnds, `polled ${orphan.leaseEnds - poll.at} ms early`);
    assert.ok(poll.at - orphan.leaseEnds < LEASE_MS, `took ${poll.at - orphan.leaseEnds} ms`);
    assert.equal(poll.body.offset, 42);
    const update = privateMessage(
      telegramUser({ first_name: "Or", last_name: "Phan" }),
      { text: "anyone there?" },
      { updateId: 42 },
    );
    fakes.telegram.pushUpdate(orphan.token, update);
    await eventually(() =>
      pollsOf(orphan.token).some((c) => c.body.offset === 43) ? true : undefined,
    );
    assert.deepEqual(await texts(first(), orphan.user, "telegram - Or Phan"), ["anyone there?"]);
    assert.equal(pollersOf(orphan.id).length, 1);
    assert.equal(fakes.telegram.peakPollsOpen(orphan.token), 1);
  });
});

// The supervisor alone, over a real store whose lease calls can be made to fail or hang.

type LeaseCalls = "answer" | "fail" | "hang";

/** `channels` with lease calls that answer, fail or hang (until `resume`) as `state` says. */
function unreliable(
  inner: ChannelStore,
  state: { calls: LeaseCalls },
): { channels: ChannelStore; resume(): void } {
  const hung: Array<() => void> = [];
  const channels = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "acquirePollLease" && state.calls !== "answer") {
        if (state.calls === "fail") return () => Promise.reject(new Error("database unreachable"));
        return (...args: Parameters<ChannelStore["acquirePollLease"]>) =>
          new Promise<boolean>((resolve, reject) => {
            hung.push(() => target.acquirePollLease(...args).then(resolve, reject));
          });
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    channels,
    resume() {
      for (const go of hung.splice(0)) go();
    },
  };
}

describe("poll supervisor", () => {
  const SUP_LEASE = 600;
  const SUP_ROUND = 40;
  let opened: OpenedStore;

  before(async () => {
    const store = await openStore("sqlite");
    assert.ok(store);
    opened = store;
  });
  after(() => opened.dispose());

  function setUp(
    calls: { calls: LeaseCalls },
    onStop?: (channelId: string) => Promise<void>,
    leaseMs = SUP_LEASE,
  ) {
    const runs: Array<{ channel: string; started: number; stopped?: number }> = [];
    const store = unreliable(opened.store.channels, calls);
    const supervisor = new PollSupervisor({
      channels: store.channels,
      log: createLogger("silent"),
      leaseMs,
      intervalMs: SUP_ROUND,
      owner: unique("me"),
      createPoller: (channel) => {
        const run: { channel: string; started: number; stopped?: number } = {
          channel: channel.id,
          started: 0,
        };
        runs.push(run);
        return {
          start: () => {
            run.started = Date.now();
          },
          stop: async () => {
            run.stopped ??= Date.now();
            await onStop?.(channel.id);
          },
        };
      },
    });
    return { supervisor, runs, resume: store.resume };
  }

  const leaseOf = async (id: string) =>
    (await opened.sql("select poll_owner, poll_lease_until from channels where id = ?", [id]))[0] as
      | { poll_owner: string | null; poll_lease_until: number | null }
      | undefined;

  for (const failure of ["fail", "hang"] as const) {
    it(`stops polling before the lease runs out when renewals ${failure}, and resumes after`, async () => {
      const owner = await newOwner(opened.store);
      const channel = await newChannel(opened.store, owner.id);
      const calls: { calls: LeaseCalls } = { calls: "answer" };
      const { supervisor, runs, resume } = setUp(calls);
      await supervisor.start();
      try {
        assert.equal(runs.filter((r) => r.channel === channel.id).length, 1);
        await sleep(3 * SUP_ROUND);
        calls.calls = failure;
        const lastRenewal = await leaseOf(channel.id);
        assert.equal(lastRenewal?.poll_owner, supervisor.owner);
        const run = runs.find((r) => r.channel === channel.id);
        await eventually(() => run?.stopped, 2 * SUP_LEASE);
        // The lease could not have been renewed after the failure began.
        const leaseEnd = (await leaseOf(channel.id))?.poll_lease_until ?? 0;
        assert.ok(
          (run?.stopped ?? Infinity) < leaseEnd,
          `stopped ${(run?.stopped ?? 0) - leaseEnd} ms late`,
        );
        assert.deepEqual(supervisor.polled(), []);

        // A renewal that hung answers late: it counts from when it was asked, so it may be
        // stale already; the next round's renewal is not.
        calls.calls = "answer";
        resume();
        await eventually(() => (supervisor.polled().includes(channel.id) ? true : undefined));
        assert.ok(runs.filter((r) => r.channel === channel.id).length >= 2);
      } finally {
        calls.calls = "answer";
        resume();
        await supervisor.stop();
      }
    });
  }

  it("stops at the next round when another owner holds the lease", async () => {
    const owner = await newOwner(opened.store);
    const channel = await newChannel(opened.store, owner.id);
    // A long lease, so that only the refused renewal can stop it within the test.
    const { supervisor, runs } = setUp({ calls: "answer" }, undefined, 20_000);
    await supervisor.start();
    try {
      assert.ok(supervisor.polled().includes(channel.id));
      // As if our lease had run out and another process had taken it.
      await opened.sql("update channels set poll_owner = ?, poll_lease_until = ? where id = ?", [
        "someone-else",
        Date.now() + 60_000,
        channel.id,
      ]);
      const changedAt = Date.now();
      const run = runs.find((r) => r.channel === channel.id);
      const stopped = await eventually(() => run?.stopped);
      assert.ok(stopped - changedAt < 10_000, `took ${stopped - changedAt} ms`);
      await sleep(3 * SUP_ROUND);
      assert.equal(runs.filter((r) => r.channel === channel.id).length, 1);
      assert.equal((await leaseOf(channel.id))?.poll_owner, "someone-else");
    } finally {
      await supervisor.stop();
      await opened.sql("update channels set poll_owner = null, poll_lease_until = null");
    }
  });

  it("releases its leases on stop, after each poller stored its offset", async () => {
    const owner = await newOwner(opened.store);
    const channel = await newChannel(opened.store, owner.id);
    const seenAtStop: Array<string | null | undefined> = [];
    const { supervisor } = setUp({ calls: "answer" }, async (id) => {
      await sleep(30);
      seenAtStop.push((await leaseOf(id))?.poll_owner);
      if (id === channel.id) await opened.store.channels.setPollOffset(id, 77);
    });
    await supervisor.start();
    assert.ok(supervisor.polled().includes(channel.id));
    await supervisor.stop();
    assert.ok(seenAtStop.every((o) => o === supervisor.owner));
    assert.deepEqual(await leaseOf(channel.id), { poll_owner: null, poll_lease_until: null });
    assert.equal((await opened.store.channels.findById(channel.id))?.pollOffset, 77);
  });
});
