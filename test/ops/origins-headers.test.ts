import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  listUrl,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

// protocol.md section 9: ALLOWED_ORIGINS for socket upgrades and CORS (the server's own origin
// always passes, no Origin is never refused), and security headers on every response.

const APP = "https://app.example.com";
const EVIL = "https://evil.example.net";
const PUBLIC = "https://chat.example.com";

/** Upgrades with an Origin header; resolves "open" or the HTTP status that refused it. */
function upgrade(url: string, origin: string | undefined): Promise<"open" | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, origin ? { origin } : {});
    socket.once("open", () => {
      socket.close();
      resolve("open");
    });
    socket.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

function expectSecurityHeaders(res: Response, what: string): void {
  const csp = String(res.headers.get("content-security-policy"));
  for (const directive of [
    "default-src 'self'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
  ]) {
    assert.ok(csp.split(";").includes(directive), `${what}: ${directive} in ${csp}`);
  }
  assert.ok(!/script-src[^;]*'unsafe-(inline|eval)'/.test(csp), `${what}: ${csp}`);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(res.headers.get("referrer-policy"), "same-origin", what);
  assert.equal(res.headers.get("x-frame-options"), "SAMEORIGIN", what);
  // Plain HTTP here: HSTS is the TLS terminator's to send.
  assert.equal(res.headers.get("strict-transport-security"), null, what);
}

describe("origins, CORS and security headers", () => {
  describe("with ALLOWED_ORIGINS", () => {
    let server: TestServer;
    let user: TestUser;
    let own: string;

    before(async () => {
      server = await startServer({
        env: { ALLOWED_ORIGINS: `${APP}, http://localhost:5173`, PUBLIC_URL: PUBLIC },
      });
      user = await registerUser(server);
      own = server.baseUrl;
    });
    after(() => server.close());

    const get = (origin?: string) =>
      fetch(`${server.baseUrl}/api/auth/me/`, {
        headers: {
          authorization: `Bearer ${user.access}`,
          ...(origin ? { origin } : {}),
        },
      });

    it("answers a listed origin with CORS headers", async () => {
      const res = await get(APP);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), APP);
      assert.equal(res.headers.get("access-control-allow-credentials"), null);
      assert.match(String(res.headers.get("vary")), /Origin/);
    });

    it("answers a preflight from a listed origin", async () => {
      const res = await fetch(`${server.baseUrl}/api/conversations/`, {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:5173",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
      assert.match(String(res.headers.get("access-control-allow-methods")), /POST/);
      assert.match(String(res.headers.get("access-control-allow-headers")), /Authorization/i);
      expectSecurityHeaders(res, "preflight");
    });

    it("refuses another origin with 403, preflight included, and does nothing", async () => {
      const res = await fetch(`${server.baseUrl}/api/auth/register/`, {
        method: "POST",
        headers: { origin: EVIL, "content-type": "application/json" },
        body: JSON.stringify({ username: "evil_made_me", password: "correct horse battery" }),
      });
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), { error: "Origin not allowed", code: "forbidden_origin" });
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      expectSecurityHeaders(res, "403");
      assert.equal(await server.server.store.users.findByUsername("evil_made_me"), undefined);
      const preflight = await fetch(`${server.baseUrl}/api/conversations/`, {
        method: "OPTIONS",
        headers: { origin: EVIL, "access-control-request-method": "GET" },
      });
      assert.equal(preflight.status, 403);
      expectSecurityHeaders(preflight, "refused preflight");
      // "null" (a sandboxed frame, a file) is an origin like any other: not listed.
      assert.equal((await get("null")).status, 403);
    });

    it("always lets the server's own origin and requests without Origin through", async () => {
      assert.equal((await get(own)).status, 200);
      assert.equal((await get(PUBLIC)).status, 200);
      assert.equal((await get()).status, 200);
    });

    it("applies the same rule to socket upgrades", async () => {
      const url = listUrl(server, user.access);
      assert.equal(await upgrade(url, EVIL), 403);
      assert.equal(await upgrade(url, "https://app.example.com.evil.example.net"), 403);
      assert.equal(await upgrade(url, APP), "open");
      assert.equal(await upgrade(url, own), "open");
      assert.equal(await upgrade(url, PUBLIC), "open");
      assert.equal(await upgrade(url, undefined), "open");
    });
  });

  describe("without ALLOWED_ORIGINS", () => {
    let server: TestServer;
    let user: TestUser;

    before(async () => {
      server = await startServer();
      user = await registerUser(server);
    });
    after(() => server.close());

    it("lets every origin in, as before", async () => {
      const res = await fetch(`${server.baseUrl}/healthz`, { headers: { origin: EVIL } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), EVIL);
      assert.equal(await upgrade(listUrl(server, user.access), EVIL), "open");
    });

    it("puts the security headers on every response: pages, API, errors, refusals", async () => {
      expectSecurityHeaders(await fetch(`${server.baseUrl}/`), "GET /");
      expectSecurityHeaders(await fetch(`${server.baseUrl}/healthz`), "GET /healthz");
      expectSecurityHeaders(await fetch(`${server.baseUrl}/api/auth/me/`), "401");
      expectSecurityHeaders(await fetch(`${server.baseUrl}/no/such/page`), "404");
      const bad = await fetch(`${server.baseUrl}/api/auth/token/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      });
      assert.equal(bad.status, 400);
      expectSecurityHeaders(bad, "400");
    });

    it("keeps sockets working behind the headers", async () => {
      const client = await WsClient.connect(listUrl(server, user.access));
      assert.equal((await client.next()).type, "connection_established");
      client.socket.close();
    });
  });
});
