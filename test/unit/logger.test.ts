import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { loadConfig } from "../../src/config.js";
import { createLogger, redactUrl } from "../../src/logger.js";
import { createServer } from "../../src/server.js";
import { api, registerUser, TEST_JWT_SECRET } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

// protocol.md section 9: the token in `?token=` never appears in logs.

const SECRET = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2ln";

/** A pino destination that keeps every line. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { stream, lines, text: () => lines.join("\n") };
}

describe("redactUrl", () => {
  for (const [url, expected] of [
    ["/ws/chat/c_1/?token=abc", "/ws/chat/c_1/?token=[redacted]"],
    ["/ws/conversations?token=abc", "/ws/conversations?token=[redacted]"],
    ["/ws/chat/c_1/?after_seq=5&token=abc", "/ws/chat/c_1/?after_seq=5&token=[redacted]"],
    ["/ws/chat/c_1/?token=abc&after_seq=5", "/ws/chat/c_1/?token=[redacted]&after_seq=5"],
    ["/a?access_token=abc&x=1", "/a?access_token=[redacted]&x=1"],
    [
      "/api/attachments/a_1/?exp=1733055600&sig=3f9c",
      "/api/attachments/a_1/?exp=1733055600&sig=[redacted]",
    ],
    ["/a?TOKEN=abc", "/a?TOKEN=[redacted]"],
    ["/a?token=abc&token=def", "/a?token=[redacted]&token=[redacted]"],
    ["/a?token=abc#frag", "/a?token=[redacted]#frag"],
    ["/a?token=", "/a?token=[redacted]"],
    // URLSearchParams decodes names, so the server reads these as `token`.
    ["/a?%74oken=abc", "/a?%74oken=[redacted]"],
    ["/a?x=1&%54%4F%4B%45%4E=abc", "/a?x=1&%54%4F%4B%45%4E=[redacted]"],
    ["/a?access%5Ftoken=abc", "/a?access%5Ftoken=[redacted]"],
  ] as const) {
    it(`redacts ${url}`, () => {
      assert.equal(redactUrl(url), expected);
    });
  }

  for (const url of [
    "/api/conversations/",
    "/api/conversations/?search=token&limit=5",
    "/a?mytoken=visible&token_type=access",
    "/a?x=token=1",
    "/api/token/refresh/",
    "/a?token",
  ]) {
    it(`leaves ${url} alone`, () => {
      assert.equal(redactUrl(url), url);
    });
  }

  it("never lets a value the server would read as the token through", () => {
    const urls = [
      `/ws/chat/c/?token=${SECRET}`,
      `/ws/chat/c/?a=1&token=${SECRET}&b=2`,
      `/ws/chat/c/?%74oken=${SECRET}`,
      `/ws/chat/c/?t%6Fken=${encodeURIComponent(SECRET)}`,
      `/ws/chat/c/?token=${encodeURIComponent(SECRET)}#x`,
    ];
    for (const url of urls) {
      const read = new URL(url, "http://localhost").searchParams.get("token");
      assert.equal(read, SECRET, `the server reads the token from ${url}`);
      const redacted = redactUrl(url);
      assert.ok(!redacted.includes(SECRET.slice(0, 10)), `${url} -> ${redacted}`);
      assert.ok(
        !redacted.includes(encodeURIComponent(SECRET).slice(0, 10)),
        `${url} -> ${redacted}`,
      );
    }
  });
});

describe("createLogger", () => {
  it("logs a request with ?token= without the token", async () => {
    const out = capture();
    const log: FastifyBaseLogger = createLogger("info", out.stream);
    const app = Fastify({ loggerInstance: log });
    app.get("/ws/chat/:id/", async () => ({ ok: true }));
    app.get("/fail", async () => {
      throw new Error("boom");
    });
    try {
      for (const url of [
        `/ws/chat/c_1/?token=${SECRET}`,
        `/ws/chat/c_1/?after_seq=3&token=${SECRET}`,
        `/ws/chat/c_1/?%74oken=${SECRET}`,
        `/fail?token=${SECRET}`,
      ]) {
        await app.inject({ method: "GET", url });
      }
    } finally {
      await app.close();
    }
    const requests = out.lines
      .map((line) => JSON.parse(line) as { msg?: string; req?: { url?: string } })
      .filter((entry) => entry.msg === "incoming request");
    assert.equal(requests.length, 4, out.text());
    assert.equal(requests[0]?.req?.url, "/ws/chat/c_1/?token=[redacted]");
    assert.equal(requests[1]?.req?.url, "/ws/chat/c_1/?after_seq=3&token=[redacted]");
    assert.ok(!out.text().includes(SECRET), out.text());
    assert.ok(!out.text().includes(SECRET.slice(0, 12)), out.text());
  });

  it("keeps tokens out of every line the real server writes, even at trace level", async () => {
    const out = capture();
    const dataDir = mkdtempSync(join(tmpdir(), "fiko-log-"));
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      SQLITE_PATH: join(dataDir, "fiko.sqlite"),
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: "trace",
    });
    const server = await createServer(config, createLogger("trace", out.stream), {
      platforms: false,
    });
    try {
      const port = await server.listen();
      const base = { baseUrl: `http://127.0.0.1:${port}` };
      const user = await registerUser(base);
      const token = user.access;
      for (const path of [
        `/missing/?token=${token}`,
        `/api/conversations/?token=${token}`,
        `/api/conversations/?%74oken=${token}`,
        `/healthz?token=${token}`,
      ]) {
        await api(base, "GET", path);
      }
      await api(base, "GET", "/api/auth/me/", { token });
      await api(base, "POST", "/api/auth/token/refresh/", { body: { refresh: user.refresh } });
      for (const path of [
        `/ws/conversations/?token=${token}`,
        `/ws/chat/c_missing/?token=${token}`,
        `/ws/chat/c_missing/?%74oken=${token}`,
      ]) {
        const client = await WsClient.connect(`ws://127.0.0.1:${port}${path}`);
        client.send("{not json");
        await client.drain(30);
        await client.close();
      }
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    const text = out.text();
    assert.ok(text.includes("?token=[redacted]"), "the requests were logged");
    for (const secret of [TEST_JWT_SECRET, "correct horse battery"]) {
      assert.ok(!text.includes(secret), `${secret} leaked`);
    }
    for (const line of out.lines) {
      assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(line), `a JWT leaked: ${line}`);
    }
  });

  it("logs no request headers (bearer tokens, webhook secrets)", async () => {
    const out = capture();
    const app = Fastify({ loggerInstance: createLogger("trace", out.stream) as FastifyBaseLogger });
    app.get("/x", async () => ({ ok: true }));
    try {
      await app.inject({
        method: "GET",
        url: "/x",
        headers: {
          authorization: `Bearer ${SECRET}`,
          "x-telegram-bot-api-secret-token": "tg-secret-value",
        },
      });
    } finally {
      await app.close();
    }
    assert.ok(out.lines.length > 0);
    assert.ok(!out.text().includes(SECRET), out.text());
    assert.ok(!out.text().includes("tg-secret-value"), out.text());
  });

  it("censors credentials logged as fields", () => {
    const out = capture();
    const log = createLogger("info", out.stream);
    log.info({ password: "pw-1" }, "top-level password");
    log.info({ body: { password: "pw-2" } }, "nested password");
    log.info({ credentials: { botToken: "bt-1" } }, "credentials");
    log.info(
      { channel: { botToken: "bt-2", accessToken: "at-1", secretToken: "st-1" } },
      "camelCase secrets",
    );
    log.info({ body: { bot_token: "bt-3", access_token: "at-2" } }, "snake_case secrets");
    assert.equal(out.lines.length, 5);
    for (const secret of ["pw-1", "pw-2", "bt-1", "bt-2", "at-1", "st-1", "bt-3", "at-2"]) {
      assert.ok(!out.text().includes(secret), `${secret} in ${out.text()}`);
    }
    assert.equal(
      (JSON.parse(out.lines[0] ?? "{}") as { password?: string }).password,
      "[redacted]",
    );
  });

  it("honours the level", () => {
    const out = capture();
    const log = createLogger("warn", out.stream);
    log.info("hidden");
    log.warn("shown");
    assert.deepEqual(
      out.lines.map((line) => (JSON.parse(line) as { msg: string; level: number }).msg),
      ["shown"],
    );
    const silent = capture();
    createLogger("silent", silent.stream).error("nothing");
    assert.deepEqual(silent.lines, []);
  });
});
