import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createClient, type RedisClientType } from "@redis/client";
import {
  addressOf,
  type FreshDatabase,
  freshDatabase,
  POSTGRES_ADMIN_URL,
  PrivateRedis,
  postgresReachable,
  REDIS_URL,
  redisReachable,
  reportSkip,
  type ServerProcess,
  servicesRequired,
  startServerProcess,
  stopAll,
  waitFor,
} from "../helpers/cluster.js";
import { WsClient } from "../helpers/ws-client.js";

// protocol.md section 9: the abuse limits hold across processes when REDIS_URL is set. Two real
// server processes on one PostgreSQL database and one Redis; each test spends its count half on
// one process and half on the other. Then: a killed process's sockets stop counting after one
// lease, and a Redis outage falls back to per-process limits instead of locking anyone out.

const JWT_SECRET = "limits-cluster-secret-0123456789abcdef";
const PASSWORD = "correct horse battery";
const LEASE_MS = 1500;
const SUITE = "limits across processes";

async function unreachable(): Promise<string | undefined> {
  if (!(await postgresReachable())) {
    return `PostgreSQL not reachable at ${addressOf(POSTGRES_ADMIN_URL, "5432")}`;
  }
  if (!(await redisReachable())) return `Redis not reachable at ${addressOf(REDIS_URL, "6379")}`;
  return undefined;
}

let nextAddress = 1;
/** A client address of its own for each call (the processes trust 127.0.0.1 as a proxy). */
const freshAddress = () => `198.18.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}`;

async function post(proc: ServerProcess, path: string, body: unknown, from: string) {
  const res = await fetch(proc.baseUrl + path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": from },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function newUser(proc: ServerProcess) {
  const username = `lim_${randomBytes(5).toString("hex")}`;
  const from = freshAddress();
  const reg = await post(proc, "/api/auth/register/", { username, password: PASSWORD }, from);
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const tok = await post(proc, "/api/auth/token/", { username, password: PASSWORD }, from);
  assert.equal(tok.status, 200);
  return { id: reg.body.id as number, username, access: tok.body.access as string };
}

const listSocket = async (proc: ServerProcess, token: string) => {
  const client = await WsClient.connect(`${proc.wsUrl}/ws/conversations/?token=${token}`);
  const first: Record<string, unknown> = await Promise.race([client.next(), client.closed]);
  return { client, first };
};

function suite(): void {
  describe(SUITE, { timeout: 120_000 }, () => {
    let db: FreshDatabase;
    let redis: RedisClientType;
    const prefix = `fikotest${randomBytes(4).toString("hex")}:`;
    const processes: ServerProcess[] = [];
    let a: ServerProcess;
    let b: ServerProcess;
    let env: Record<string, string>;

    before(async () => {
      db = await freshDatabase("fiko_limits");
      redis = createClient({ url: REDIS_URL });
      await redis.connect();
      env = {
        DATABASE_URL: db.url,
        REDIS_URL,
        JWT_SECRET,
        REDIS_PREFIX: prefix,
        TRUST_PROXY: "127.0.0.1",
        SIGNIN_FAILURE_LIMIT: "4",
        REGISTRATION_RATE_LIMIT: "3",
        REST_RATE_LIMIT: "6",
        WS_CONNECT_RATE_LIMIT: "5",
        MAX_SOCKETS_PER_USER: "2",
        SOCKET_LEASE_MS: String(LEASE_MS),
      };
      a = await startServerProcess("a", env);
      processes.push(a);
      b = await startServerProcess("b", env);
      processes.push(b);
    });
    after(async () => {
      await stopAll(processes);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(keys);
      redis.destroy();
      await db.drop();
    });

    /** Places held in Redis for a user's sockets that have not lapsed. */
    const liveSockets = async (userId: number): Promise<number> => {
      const [seconds = "0", micros = "0"] = (await redis.sendCommand(["TIME"])) as string[];
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return redis.zCount(`${prefix}sockets:${userId}`, now, "+inf");
    };

    it("counts failed sign-ins of one username on both processes", async () => {
      const user = await newUser(a);
      for (const proc of [a, b, a, b]) {
        const res = await post(
          proc,
          "/api/auth/token/",
          { username: user.username, password: "wrong" },
          freshAddress(),
        );
        assert.equal(res.status, 401);
      }
      for (const proc of [a, b]) {
        const res = await post(
          proc,
          "/api/auth/token/",
          { username: user.username, password: PASSWORD },
          freshAddress(),
        );
        assert.equal(res.status, 429, proc.name);
        assert.equal(res.body.code, "rate_limited");
      }
    });

    it("counts failed sign-ins of one address on both processes", async () => {
      const from = freshAddress();
      for (const proc of [b, a, b, a]) {
        const res = await post(
          proc,
          "/api/auth/token/",
          { username: `nobody_${randomBytes(3).toString("hex")}`, password: "wrong" },
          from,
        );
        assert.equal(res.status, 401);
      }
      const user = await newUser(b);
      const res = await post(
        a,
        "/api/auth/token/",
        { username: user.username, password: PASSWORD },
        from,
      );
      assert.equal(res.status, 429);
    });

    it("counts registrations of one address on both processes", async () => {
      const from = freshAddress();
      const register = (proc: ServerProcess) =>
        post(
          proc,
          "/api/auth/register/",
          { username: `reg_${randomBytes(4).toString("hex")}`, password: PASSWORD },
          from,
        );
      assert.equal((await register(a)).status, 201);
      assert.equal((await register(b)).status, 201);
      assert.equal((await register(a)).status, 201);
      const refused = await register(b);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.code, "rate_limited");
    });

    it("counts a user's REST calls on both processes", async () => {
      const user = await newUser(a);
      const me = (proc: ServerProcess) =>
        fetch(`${proc.baseUrl}/api/auth/me/`, {
          headers: { authorization: `Bearer ${user.access}` },
        }).then((r) => r.status);
      for (const proc of [a, b, a, b, a, b]) assert.equal(await me(proc), 200);
      assert.equal(await me(a), 429);
      assert.equal(await me(b), 429);
    });

    it("counts a user's new sockets per minute on both processes", async () => {
      const user = await newUser(b);
      for (const proc of [a, b, a, b, a]) {
        const { client, first } = await listSocket(proc, user.access);
        assert.equal(first.type, "connection_established", proc.name);
        client.socket.close();
        await client.closed;
      }
      const { first } = await listSocket(b, user.access);
      assert.deepEqual(first, { code: 1008, reason: "too_many_connections" });
    });

    it("counts a user's open sockets on both processes, and frees a place on close", async () => {
      const user = await newUser(a);
      const one = await listSocket(a, user.access);
      const two = await listSocket(b, user.access);
      assert.equal(one.first.type, "connection_established");
      assert.equal(two.first.type, "connection_established");
      assert.equal(await liveSockets(user.id), 2);
      const three = await listSocket(a, user.access);
      assert.deepEqual(three.first, { code: 1008, reason: "too_many_connections" });
      // Dropped without a close handshake: the server still gives the place back.
      two.client.socket.terminate();
      await waitFor(async () => (await liveSockets(user.id)) === 1, "place given back");
      const four = await listSocket(a, user.access);
      assert.equal(four.first.type, "connection_established");
      one.client.socket.close();
      four.client.socket.close();
      await waitFor(async () => (await liveSockets(user.id)) === 0, "places given back");
    });

    it("forgets a killed process's sockets after one lease", async () => {
      const user = await newUser(b);
      const onA = await listSocket(a, user.access);
      const onB = await listSocket(b, user.access);
      assert.equal(onA.first.type, "connection_established");
      assert.equal(onB.first.type, "connection_established");
      // Renewed by its process, a place outlives several leases.
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
      assert.equal(await liveSockets(user.id), 2);
      a.kill("SIGKILL");
      await a.exited;
      assert.deepEqual((await listSocket(b, user.access)).first, {
        code: 1008,
        reason: "too_many_connections",
      });
      await waitFor(async () => (await liveSockets(user.id)) === 1, "lapsed", LEASE_MS * 4);
      const again = await listSocket(b, user.access);
      assert.equal(again.first.type, "connection_established");
      onB.client.socket.close();
      again.client.socket.close();
    });
  });

  describe(`${SUITE}: a Redis outage`, { timeout: 120_000 }, () => {
    let db: FreshDatabase;
    let privateRedis: PrivateRedis | undefined;
    const processes: ServerProcess[] = [];

    before(async () => {
      db = await freshDatabase("fiko_limits");
      privateRedis = await PrivateRedis.start();
    });
    after(async () => {
      await stopAll(processes);
      await privateRedis?.stop();
      await db.drop();
    });

    it("falls back to per-process limits, logs it, and comes back", async (t) => {
      if (!privateRedis) {
        t.skip("no redis-server on the PATH to stop and start");
        return;
      }
      const proc = await startServerProcess("solo", {
        DATABASE_URL: db.url,
        REDIS_URL: privateRedis.url,
        JWT_SECRET,
        TRUST_PROXY: "127.0.0.1",
        SIGNIN_FAILURE_LIMIT: "2",
        MAX_SOCKETS_PER_USER: "2",
        SOCKET_LEASE_MS: String(LEASE_MS),
      });
      processes.push(proc);
      const user = await newUser(proc);
      const other = await newUser(proc);
      const held = await listSocket(proc, other.access);
      assert.equal(held.first.type, "connection_established");

      await privateRedis.down();
      // Nobody is locked out: sign-in and sockets work, counted by this process.
      const signIn = (password: string) =>
        post(proc, "/api/auth/token/", { username: user.username, password }, freshAddress());
      assert.equal((await signIn("wrong")).status, 401);
      assert.equal((await signIn("wrong")).status, 401);
      assert.equal((await signIn(PASSWORD)).status, 429);
      const one = await listSocket(proc, user.access);
      const two = await listSocket(proc, user.access);
      assert.equal(one.first.type, "connection_established");
      assert.equal(two.first.type, "connection_established");
      assert.deepEqual((await listSocket(proc, user.access)).first, {
        code: 1008,
        reason: "too_many_connections",
      });
      await waitFor(
        () =>
          proc.logged("redis unreachable: rate limits are counted per process until it is back")
            .length > 0 &&
          proc.logged(
            "redis unreachable: open sockets per user are counted per process until it is back",
          ).length > 0,
        "fallback logged",
      );

      // Redis is back, empty (it kept nothing): the open sockets' places are renewed into it.
      await privateRedis.up();
      const client = createClient({ url: privateRedis.url });
      await client.connect();
      try {
        await waitFor(
          async () => (await client.zCard(`fiko:sockets:${user.id}`)) === 2,
          "places restored",
          LEASE_MS * 6,
        );
        assert.equal(await client.zCard(`fiko:sockets:${other.id}`), 1);
      } finally {
        client.destroy();
      }
      for (const s of [held, one, two]) s.client.socket.close();
    });
  });
}

const reason = await unreachable();
if (reason === undefined) {
  suite();
} else if (servicesRequired()) {
  it(`${SUITE} needs PostgreSQL and Redis`, () => {
    throw new Error(reason);
  });
} else {
  reportSkip(SUITE, reason);
}
