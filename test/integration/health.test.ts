import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { api, startServer, type TestServer } from "../helpers/server.js";

// protocol.md section 9: liveness and readiness, without credentials.

describe("health", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it("GET /healthz answers 200 {status: ok}", async () => {
    for (const path of ["/healthz", "/healthz/"]) {
      const res = await api(server, "GET", path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(res.body, { status: "ok" });
    }
  });

  it("GET /readyz answers 200 when the database and the bus answer", async () => {
    for (const path of ["/readyz", "/readyz/"]) {
      const res = await api(server, "GET", path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(res.body, { status: "ok", database: "ok", bus: "ok", draining: false });
    }
  });

  it("answers JSON", async () => {
    const response = await fetch(`${server.baseUrl}/readyz`);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    await response.text();
  });

  it("GET /readyz answers 503 when the database does not answer", async (t) => {
    t.mock.method(server.server.store, "ping", async () => {
      throw new Error("database down");
    });
    const res = await api(server, "GET", "/readyz");
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, {
      status: "unavailable",
      database: "unavailable",
      bus: "ok",
      draining: false,
    });
    // Liveness is about the process only.
    assert.equal((await api(server, "GET", "/healthz")).status, 200);
  });

  it("GET /readyz answers 503 when the bus does not answer", async (t) => {
    t.mock.method(server.server.bus, "ping", async () => {
      throw new Error("bus down");
    });
    const res = await api(server, "GET", "/readyz");
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, {
      status: "unavailable",
      database: "ok",
      bus: "unavailable",
      draining: false,
    });
  });

  it("is ready again once both answer", async () => {
    const res = await api(server, "GET", "/readyz");
    assert.equal(res.status, 200);
  });

  it("answers unknown paths with the JSON 404", async () => {
    const res = await api(server, "GET", "/nope");
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: "Not found", code: "not_found" });
  });
});
