import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { delta, scrape } from "../helpers/metrics.js";
import {
  api,
  chatUrl,
  ingest,
  listUrl,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import { eventually } from "../platforms/support.js";

// protocol.md section 9, each limit alone on one process (in memory). The same limits across two
// processes on Redis: limits-cluster.test.ts.

const PASSWORD = "correct horse battery";

type Answer = { status: number; body: Record<string, unknown>; retryAfter: string | null };

async function signIn(
  server: TestServer,
  username: string,
  password: string,
  address?: string,
): Promise<Answer> {
  const res = await fetch(`${server.baseUrl}/api/auth/token/`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(address ? { "x-forwarded-for": address } : {}),
    },
    body: JSON.stringify({ username, password }),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    retryAfter: res.headers.get("retry-after"),
  };
}

function assertLimited(answer: Answer, maxSeconds: number): void {
  assert.equal(answer.status, 429, JSON.stringify(answer.body));
  assert.equal(answer.body.code, "rate_limited");
  assert.equal(typeof answer.body.error, "string");
  const wait = Number(answer.retryAfter);
  assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= maxSeconds, String(answer.retryAfter));
}

const address = () =>
  `203.0.113.${1 + ((randomBytes(1)[0] ?? 0) % 250)}, 198.51.100.${randomBytes(1)[0] ?? 0}`;

describe("abuse limits on one process", () => {
  describe("sign-in failures", () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({
        env: { SIGNIN_FAILURE_LIMIT: "3", SIGNIN_FAILURE_WINDOW: "600", TRUST_PROXY: "127.0.0.1" },
      });
    });
    after(() => server.close());

    it("locks a username after the limit, even for the right password, from any address", async () => {
      const { username } = await registerUser(server);
      for (let i = 0; i < 3; i++) {
        assert.equal(
          (await signIn(server, username, "wrong password", `10.0.0.${i + 1}`)).status,
          401,
        );
      }
      assertLimited(await signIn(server, username, PASSWORD, "10.0.1.1"), 600);
      // Case does not open a second door.
      assertLimited(await signIn(server, username.toUpperCase(), PASSWORD, "10.0.1.2"), 600);
      // Another account from the same addresses is not affected.
      const other = await registerUser(server);
      assert.equal((await signIn(server, other.username, PASSWORD, "10.0.0.1")).status, 200);
    });

    it("locks an address apart from the usernames it tried", async () => {
      const users = [
        await registerUser(server),
        await registerUser(server),
        await registerUser(server),
      ];
      const [a, b, c] = users.map((u) => u.username) as [string, string, string];
      for (const name of [a, b, `nobody_${Date.now()}`]) {
        assert.equal((await signIn(server, name, "wrong password", "192.0.2.77")).status, 401);
      }
      assertLimited(await signIn(server, c, PASSWORD, "192.0.2.77"), 600);
      // The same account from elsewhere: its own count is 0.
      assert.equal((await signIn(server, c, PASSWORD, "192.0.2.78")).status, 200);
    });

    it("forgives a username's failures once the right password came in time", async () => {
      const { username } = await registerUser(server);
      const from = () => address();
      for (let i = 0; i < 2; i++) {
        assert.equal((await signIn(server, username, "nope nope", from())).status, 401);
      }
      assert.equal((await signIn(server, username, PASSWORD, from())).status, 200);
      for (let i = 0; i < 2; i++) {
        assert.equal((await signIn(server, username, "nope nope", from())).status, 401);
      }
      assert.equal((await signIn(server, username, PASSWORD, from())).status, 200);
    });
  });

  it("counts X-Forwarded-For only from TRUST_PROXY", async () => {
    const server = await startServer({ env: { SIGNIN_FAILURE_LIMIT: "2" } });
    try {
      // Forged headers from an untrusted peer: every failure counts on the socket's address.
      const names = [`ghost_a_${Date.now()}`, `ghost_b_${Date.now()}`];
      for (const [i, name] of names.entries()) {
        assert.equal((await signIn(server, name, "x", `10.9.9.${i}`)).status, 401);
      }
      const user = await registerUser(server);
      assertLimited(await signIn(server, user.username, PASSWORD, "10.9.9.200"), 900);
    } finally {
      await server.close();
    }
  });

  it("limits registrations per address", async () => {
    const server = await startServer({
      env: { REGISTRATION_RATE_LIMIT: "2", TRUST_PROXY: "127.0.0.0/8" },
    });
    try {
      const register = (name: string, from: string) =>
        fetch(`${server.baseUrl}/api/auth/register/`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": from },
          body: JSON.stringify({ username: name, password: PASSWORD }),
        });
      const stamp = Date.now();
      assert.equal((await register(`r1_${stamp}`, "198.51.100.1")).status, 201);
      // Invalid attempts count too: the limit is on what one address may try.
      assert.equal((await register("", "198.51.100.1")).status, 400);
      const refused = await register(`r3_${stamp}`, "198.51.100.1");
      assert.equal(refused.status, 429);
      assert.equal(((await refused.json()) as { code: string }).code, "rate_limited");
      assert.ok(Number(refused.headers.get("retry-after")) > 0);
      assert.equal(await server.server.store.users.findByUsername(`r3_${stamp}`), undefined);
      assert.equal((await register(`r4_${stamp}`, "198.51.100.2")).status, 201);
    } finally {
      await server.close();
    }
  });

  it("limits REST calls per user", async () => {
    const server = await startServer({ env: { REST_RATE_LIMIT: "5" } });
    try {
      const [alice, bob] = [await registerUser(server), await registerUser(server)];
      for (let i = 0; i < 5; i++) {
        assert.equal(
          (await api(server, "GET", "/api/auth/me/", { token: alice.access })).status,
          200,
        );
      }
      const res = await fetch(`${server.baseUrl}/api/conversations/`, {
        headers: { authorization: `Bearer ${alice.access}` },
      });
      assert.equal(res.status, 429);
      assert.deepEqual(await res.json(), {
        error: "Too many requests: slow down",
        code: "rate_limited",
      });
      const wait = Number(res.headers.get("retry-after"));
      assert.ok(wait >= 1 && wait <= 60, String(wait));
      assert.equal((await api(server, "GET", "/api/auth/me/", { token: bob.access })).status, 200);
    } finally {
      await server.close();
    }
  });

  describe("sockets", () => {
    let server: TestServer;
    let user: TestUser;
    let conversationId: string;

    before(async () => {
      server = await startServer({
        env: { MAX_SOCKETS_PER_USER: "2", WS_CONNECT_RATE_LIMIT: "0" },
      });
      user = await registerUser(server);
      conversationId = (await ingest(server, user.id, "hi")).conversation.id;
    });
    after(() => server.close());

    const open = async (url: string) => {
      const client = await WsClient.connect(url);
      const first: Record<string, unknown> = await Promise.race([client.next(), client.closed]);
      return { client, first };
    };

    it("closes a socket over MAX_SOCKETS_PER_USER with 1008 too_many_connections", async () => {
      const before = await scrape(server);
      const a = await open(chatUrl(server, conversationId, user.access));
      const b = await open(listUrl(server, user.access));
      assert.equal(a.first.type, "connection_established");
      assert.equal(b.first.type, "connection_established");
      const c = await open(listUrl(server, user.access));
      assert.deepEqual(c.first, { code: 1008, reason: "too_many_connections" });
      assert.equal(c.client.frames.length, 0, "nothing is sent before the close");
      // Another user has places of their own.
      const other = await registerUser(server);
      const d = await open(listUrl(server, other.access));
      assert.equal(d.first.type, "connection_established");

      // A closed socket gives its place back.
      a.client.socket.close();
      await a.client.closed;
      const e = await eventually(async () => {
        const attempt = await open(listUrl(server, user.access));
        return attempt.first.type === "connection_established" ? attempt : undefined;
      });
      const after = await scrape(server);
      assert.equal(delta(before, after, "fiko_websocket_closes_total", { code: "1008" }), 1);
      for (const s of [b, d, e]) s.client.socket.close();
      await eventually(() => (server.server.gateway.socketCount === 0 ? true : undefined));
    });

    it("gives the place back when a socket is refused later in its handshake", async () => {
      // 4003 after the place was taken: the place must not leak.
      for (let i = 0; i < 3; i++) {
        const refused = await open(chatUrl(server, "c_not_there", user.access));
        assert.deepEqual(refused.first, { code: 4003, reason: "forbidden" });
      }
      const a = await open(listUrl(server, user.access));
      const b = await open(listUrl(server, user.access));
      assert.equal(a.first.type, "connection_established");
      assert.equal(b.first.type, "connection_established");
      a.client.socket.close();
      b.client.socket.close();
      await eventually(() => (server.server.gateway.socketCount === 0 ? true : undefined));
    });
  });

  it("limits new sockets per user per minute (WS_CONNECT_RATE_LIMIT)", async () => {
    const server = await startServer({ env: { WS_CONNECT_RATE_LIMIT: "3" } });
    try {
      const user = await registerUser(server);
      for (let i = 0; i < 3; i++) {
        const client = await WsClient.connect(listUrl(server, user.access));
        assert.equal((await client.next()).type, "connection_established");
        client.socket.close();
        await client.closed;
      }
      // A rate, not a count: the earlier ones are closed, and still it is refused.
      const client = await WsClient.connect(listUrl(server, user.access));
      assert.deepEqual(await client.closed, { code: 1008, reason: "too_many_connections" });
      const other = await registerUser(server);
      const fine = await WsClient.connect(listUrl(server, other.access));
      assert.equal((await fine.next()).type, "connection_established");
      fine.socket.close();
    } finally {
      await server.close();
    }
  });

  it("drops a client that never reads before its unsent frames pass WS_MAX_BUFFERED_BYTES", async () => {
    const limit = 64 * 1024;
    const server = await startServer({
      env: { WS_MAX_BUFFERED_BYTES: String(limit), WS_RATE_LIMIT: "0" },
    });
    try {
      const user = await registerUser(server);
      const { conversation, channelId } = await ingest(server, user.id, "x".repeat(4000));
      for (let i = 0; i < 99; i++) {
        await ingest(server, user.id, "y".repeat(4000), {}, { channelId });
      }
      const before = await scrape(server);
      const client = await WsClient.connect(chatUrl(server, conversation.id, user.access));
      await client.next("recent_messages");
      // Stop reading: from now on only the kernel's buffers and the server's hold what is sent.
      (client.socket as unknown as { _socket: Socket })._socket.pause();
      const pages = (s: typeof before) =>
        s.value("fiko_websocket_frames_sent_total", { type: "messages" });
      let asked = 0;
      // Each answer is ~400 KB: the kernel buffers fill after some tens of them, the server's
      // own buffer then passes the limit and the socket is dropped.
      while (server.server.gateway.socketCount > 0 && asked < 2000) {
        client.send({ type: "get_messages", before_seq: 101, limit: 100 });
        asked++;
        await new Promise((resolve) => setImmediate(resolve));
        if (asked % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(server.server.gateway.socketCount, 0, `still open after ${asked} requests`);
      const after = await scrape(server);
      assert.equal(delta(before, after, "fiko_websocket_closes_total", { code: "1008" }), 1);
      const sent = pages(after) - pages(before);
      // Far fewer answers than requests, and no more once dropped: memory stayed bounded.
      assert.ok(sent < asked, `${sent} pages sent for ${asked} requests`);
      if (process.env.FIKO_REPORT)
        console.log(
          `slow consumer: ${sent} pages of ~400 KB sent for ${asked} requests, then dropped`,
        );
      const later = await scrape(server);
      assert.equal(pages(later), pages(after));
      assert.equal(delta(before, later, "fiko_websocket_connections", { kind: "chat" }), 0);
      client.socket.terminate();
    } finally {
      await server.close();
    }
  });
});
