import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify from "fastify";
import { registerErrorHandler } from "../../src/http/error-handler.js";
import { defaultWebRoot, webRoutes } from "../../src/http/web-routes.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { ensureWebBuilt } from "./support/browser.js";

// How the server hands out the built inbox: cache headers, the single-page fallback, the
// security headers of section 9, and JSON 404s for everything that is not the app.

describe("serving the inbox", () => {
  let server: TestServer;
  before(async () => {
    ensureWebBuilt();
    server = await startServer();
  });
  after(() => server.close());

  const get = (path: string, accept = "text/html") =>
    fetch(server.baseUrl + path, { headers: { accept } });

  it("serves index.html at / without caching, with the inbox's security headers", async () => {
    const res = await get("/");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    const csp = res.headers.get("content-security-policy") ?? "";
    // Section 9: only this origin's scripts, never framed; a server reached over plain HTTP on
    // a LAN must not have its requests upgraded to HTTPS.
    assert.match(csp, /(^|;)\s*script-src 'self'\s*(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.match(res.headers.get("referrer-policy") ?? "", /^(no-referrer|same-origin)$/);
    assert.match(await res.text(), /<div id="app"><\/div>/);
  });

  it("serves hashed assets for a year, immutable", async () => {
    const js = readdirSync(join(defaultWebRoot(), "assets")).find((f) => f.endsWith(".js"));
    const res = await get(`/assets/${js}`, "*/*");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.match(res.headers.get("content-type") ?? "", /javascript/);
  });

  it("answers app paths with index.html and everything else with a JSON 404", async () => {
    for (const path of ["/channels", "/c/c_abc123", "/channels/"]) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("cache-control"), "no-cache", path);
    }
    for (const [path, accept] of [
      ["/api/nothing-here/", "text/html"],
      ["/api/conversations/x/y/z", "application/json"],
      ["/ws/unknown", "text/html"],
      ["/assets/missing-0000.js", "*/*"],
      ["/channels", "application/json"],
    ] as const) {
      const res = await get(path, accept);
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), { error: "Not found", code: "not_found" }, path);
    }
  });

  it("says how to build the app when it is not built, instead of failing", async () => {
    const empty = mkdtempSync(join(tmpdir(), "fiko-web-"));
    const app = Fastify();
    registerErrorHandler(app);
    await app.register(webRoutes, { root: empty });
    try {
      const html = await app.inject({ url: "/", headers: { accept: "text/html" } });
      assert.equal(html.statusCode, 503);
      assert.match(html.body, /npm run build/);
      const json = await app.inject({ url: "/", headers: { accept: "application/json" } });
      assert.equal(json.statusCode, 503);
      assert.deepEqual(json.json(), {
        error: "The inbox is not built: run `npm run build`",
        code: "not_built",
      });
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
