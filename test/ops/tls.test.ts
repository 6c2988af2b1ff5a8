import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createServer } from "../../src/server.js";
import { ingest, startServer, TEST_JWT_SECRET, type TestServer } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

// protocol.md section 9: with TLS_CERT_FILE and TLS_KEY_FILE the server speaks HTTPS and wss://
// on PORT. The certificate is made here, for 127.0.0.1, and trusted only by these clients.

function makeCertificate(dir: string): { certFile: string; keyFile: string; cert: Buffer } {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  return { certFile, keyFile, cert: readFileSync(certFile) };
}

function httpsGet(
  url: string,
  ca: Buffer | undefined,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("native TLS", () => {
  let dir: string;
  let cert: Buffer;
  let server: TestServer;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "fiko-tls-"));
    const made = makeCertificate(dir);
    cert = made.cert;
    server = await startServer({
      env: { TLS_CERT_FILE: made.certFile, TLS_KEY_FILE: made.keyFile },
    });
    port = Number(new URL(server.baseUrl).port);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers HTTPS with the certificate, and sends HSTS", async () => {
    const res = await httpsGet(`https://127.0.0.1:${port}/healthz`, cert);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { status: "ok" });
    assert.equal(res.headers["strict-transport-security"], "max-age=15552000; includeSubDomains");
  });

  it("is refused by a client that does not trust the certificate", async () => {
    await assert.rejects(httpsGet(`https://127.0.0.1:${port}/healthz`, undefined), (err: Error) => {
      assert.match(err.message, /self[- ]signed certificate/i);
      return true;
    });
  });

  it("does not speak plain HTTP on the TLS port", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.status,
      () => "refused",
    );
    assert.notEqual(res, 200);
  });

  it("serves wss:// sockets with the same frames", async () => {
    const user = await registerViaHttps(port, cert);
    const { conversation } = await ingest(server, user.id, "over TLS");
    const client = await WsClient.connect(
      `wss://127.0.0.1:${port}/ws/chat/${conversation.id}/?token=${user.access}`,
      { ca: cert },
    );
    assert.deepEqual(await client.next(), {
      type: "connection_established",
      conversation_id: conversation.id,
      user_id: user.id,
    });
    const recent = await client.next();
    assert.equal(recent.type, "recent_messages");
    assert.deepEqual(
      (recent.messages as Array<{ content: string }>).map((m) => m.content),
      ["over TLS"],
    );
    client.send({ type: "chat_message", content: "secure reply" });
    const echo = await client.next("chat_message");
    assert.equal((echo.message as { content: string }).content, "secure reply");
    client.socket.close();
  });

  it("refuses a wss:// client that does not trust the certificate", async () => {
    const socket = new WebSocket(`wss://127.0.0.1:${port}/ws/conversations/?token=x`);
    const error = await new Promise<Error>((resolve) => socket.once("error", resolve));
    assert.match(error.message, /self[- ]signed certificate/i);
  });

  it("fails to start when a certificate file cannot be read", async () => {
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      SQLITE_PATH: ":memory:",
      JWT_SECRET: TEST_JWT_SECRET,
      TLS_CERT_FILE: join(dir, "missing.pem"),
      TLS_KEY_FILE: join(dir, "key.pem"),
    });
    await assert.rejects(createServer(config, createLogger("silent")), /ENOENT/);
  });
});

/** Registration and sign-in over HTTPS, so the whole path is exercised through TLS. */
async function registerViaHttps(port: number, ca: Buffer) {
  // The helpers use fetch, which cannot be handed a CA: post through node:https here.
  const post = (path: string, body: unknown) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        `https://127.0.0.1:${port}${path}`,
        { ca, method: "POST", headers: { "content-type": "application/json" } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text) as Record<string, unknown>,
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(body));
    });
  const username = `tls_${Date.now()}`;
  const reg = await post("/api/auth/register/", { username, password: "correct horse battery" });
  assert.equal(reg.status, 201);
  const tok = await post("/api/auth/token/", { username, password: "correct horse battery" });
  assert.equal(tok.status, 200);
  return { id: reg.body.id as number, access: tok.body.access as string };
}
