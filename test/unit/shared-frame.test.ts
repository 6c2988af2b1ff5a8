import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { SharedFrame } from "../../src/realtime/shared-frame.js";
import { SocketMember } from "../../src/realtime/socket-member.js";

// A shared frame is framed once and written as finished bytes; a real client must read every
// length encoding (7-bit, 16-bit, 64-bit) and multi-byte text, in order with frames ws wrote.

const text = (bytes: number, fill: string) =>
  JSON.stringify({ type: "t", pad: fill.repeat(bytes) });

it("frames every payload length the way a WebSocket client reads it, in order with ws's own frames", async () => {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const frames = [
    text(0, "a"),
    text(100, "b"), // 125 bytes or less
    text(200, "c"), // 16-bit length
    text(65_400, "d"), // just under 65,536 bytes
    text(66_000, "e"), // 64-bit length
    text(3_000, "é😀"), // multi-byte UTF-8
  ];
  server.on("connection", (socket) => {
    const member = new SocketMember(socket);
    frames.forEach((frame, index) => {
      // Alternate: shared frames and plain strings written by ws itself.
      member.send(index % 2 === 0 ? new SharedFrame(frame) : frame);
    });
  });
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const received: string[] = [];
  const expectedBinary: boolean[] = [];
  client.on("message", (data, isBinary) => {
    received.push(String(data));
    expectedBinary.push(isBinary);
  });
  try {
    const deadline = Date.now() + 10_000;
    while (received.length < frames.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(
      received.map((frame) => frame.length),
      frames.map((frame) => frame.length),
    );
    assert.deepEqual(received, frames);
    assert.deepEqual(
      expectedBinary,
      frames.map(() => false),
    );
  } finally {
    client.close();
    server.close();
  }
});

it("keeps the UTF-8 payload alone as bytes, for sockets that cannot take finished frames", () => {
  for (const length of [0, 125, 126, 65_535, 65_536]) {
    const frame = new SharedFrame("x".repeat(length));
    assert.equal(frame.bytes.length, length);
    assert.equal(frame.bytes.toString("utf8"), frame.text);
    assert.equal(
      frame.wire.length - frame.bytes.length,
      length < 126 ? 2 : length < 65_536 ? 4 : 10,
    );
  }
});
