import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { pino } from "pino";
import type { WebSocket } from "ws";
import { type SocketHandlers, SocketServer } from "../../src/realtime/socket-server.js";

// The upgrade's connection is corked until the handshake settles: the 101 answer and the
// handshake's frames leave in one write. The chat handler below waits before it writes, so that
// without the cork the 101 would reach the client on its own, well before the frames.

const HANDSHAKE_MS = 50;
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** One upgrade over a raw TCP connection: every chunk the client reads, until it closes. */
async function upgrade(port: number, path: string): Promise<Buffer[]> {
  const client: Socket = connect(port, "127.0.0.1");
  await once(client, "connect");
  const chunks: Buffer[] = [];
  client.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    // Seen the handshake's last frame (or none comes): the client ends, as a test client may.
    if (Buffer.concat(chunks).includes("done")) client.end();
  });
  client.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await once(client, "close");
  return chunks;
}

/** A server text frame as the client reads it (short payloads: 7-bit length, unmasked). */
const textFrame = (text: string) =>
  Buffer.concat([Buffer.from([0x81, text.length]), Buffer.from(text)]);

describe("socket upgrades are corked until the handshake settles", () => {
  let http: Server;
  let sockets: SocketServer;
  let port: number;

  before(async () => {
    const handlers: SocketHandlers = {
      // A handshake that ends live: two frames after a wait.
      async chat(ws: WebSocket) {
        await delay(HANDSHAKE_MS);
        ws.send("hello");
        ws.send("done");
      },
      // A handshake that throws before it returns: the socket is dropped, the server lives on.
      conversations() {
        throw new Error("broken handler");
      },
    };
    http = createServer();
    sockets = new SocketServer(http, {
      maxPayload: 1024,
      originAllowed: () => true,
      handlers,
      log: pino({ level: "silent" }),
    });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    port = (http.address() as AddressInfo).port;
  });
  after(async () => {
    sockets.close();
    http.close();
    await once(http, "close");
  });

  it("sends the 101 answer and the handshake's frames in one write", async () => {
    const chunks = await upgrade(port, "/ws/chat/c1/");
    assert.equal(chunks.length, 1, "one chunk: the answer and the frames left together");
    const [only] = chunks;
    const text = only?.toString("latin1") ?? "";
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    const body = only?.subarray(text.indexOf("\r\n\r\n") + 4);
    assert.deepEqual(body, Buffer.concat([textFrame("hello"), textFrame("done")]));
  });

  it("drops the connection after the 101 answer, with no frame, when the handler throws", async () => {
    const chunks = await upgrade(port, "/ws/conversations/");
    const text = Buffer.concat(chunks).toString("latin1");
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.ok(text.endsWith("\r\n\r\n"), "nothing after the answer's headers");
    // And the server still upgrades the next one.
    assert.equal((await upgrade(port, "/ws/chat/c2/")).length, 1);
  });
});
