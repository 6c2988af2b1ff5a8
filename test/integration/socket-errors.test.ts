import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  api,
  ingest,
  listUrl,
  openChat,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";

// protocol.md section 6: bad frames get an error frame and change nothing stored.
describe("socket errors", () => {
  let server: TestServer;
  let user: TestUser;
  let conversationId: string;

  before(async () => {
    server = await startServer({ env: { WS_PING_INTERVAL_MS: "100" } });
    user = await registerUser(server, "erin");
    conversationId = (await ingest(server, user.id, "hello")).conversation.id;
  });
  after(() => server.close());

  const storedSeqs = async () => {
    const page = await api<{ messages: Array<{ seq: number }> }>(
      server,
      "GET",
      `/api/conversations/${conversationId}/messages/`,
      { token: user.access },
    );
    return page.body.messages.map((m) => m.seq);
  };

  it("answers an upgrade anywhere but the two socket paths with 404 and its JSON body, and a malformed path with 400", async () => {
    const refusal = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = new WebSocket(`${server.wsUrl}${path}`);
        socket.once("open", () => reject(new Error(`${path} was upgraded`)));
        socket.once("unexpected-response", (_req, res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            body += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        socket.once("error", (err) => {
          if (!/Unexpected server response/.test(err.message)) reject(err);
        });
      });
    const notFound = {
      status: 404,
      body: JSON.stringify({ error: "Not found", code: "not_found" }),
    };
    assert.deepEqual(await refusal("/ws/unknown/"), notFound);
    assert.deepEqual(await refusal(`/api/conversations/?token=${user.access}`), notFound);
    assert.deepEqual(await refusal("/ws/chat/a/b/"), notFound);
    assert.deepEqual(await refusal("/ws/chat/%E0%A4%A/"), {
      status: 400,
      body: JSON.stringify({ error: "Malformed URL", code: "invalid" }),
    });
  });

  it("answers each bad chat frame with the exact error and keeps the socket open", async () => {
    const { client } = await openChat(server, conversationId, user.access);
    const cases: Array<[string, Record<string, string>]> = [
      ["{not json", { type: "error", code: "invalid_json", error: "Invalid JSON format" }],
      [
        '{"type":"dance"}',
        { type: "error", code: "unknown_type", error: "Unknown message type: dance" },
      ],
      ["[1,2]", { type: "error", code: "invalid_message", error: "A frame must be a JSON object" }],
      [
        '{"content":"x"}',
        { type: "error", code: "invalid_message", error: "type must be a string" },
      ],
      [
        '{"type":"chat_message","content":"   "}',
        { type: "error", code: "invalid_message", error: "content must not be empty" },
      ],
      [
        JSON.stringify({ type: "chat_message", content: "x".repeat(4097) }),
        {
          type: "error",
          code: "invalid_message",
          error: "content must be at most 4096 characters",
        },
      ],
    ];
    for (const [raw, expected] of cases) {
      client.send(raw);
      assert.deepEqual(await client.next(), expected, raw);
    }
    for (const raw of [
      '{"type":"chat_message","content":42}',
      '{"type":"chat_message"}',
      '{"type":"typing","is_typing":"yes"}',
      '{"type":"get_messages","before_seq":5,"limit":0}',
      '{"type":"get_messages","before_seq":5,"limit":101}',
      '{"type":"get_messages","before_seq":"5"}',
    ]) {
      client.send(raw);
      const frame = await client.next();
      assert.equal(frame.type, "error", raw);
      assert.equal(frame.code, "invalid_message", raw);
      assert.equal(typeof frame.error, "string");
    }
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.deepEqual(await client.next(), {
      type: "error",
      code: "invalid_message",
      error: "Binary frames are not supported",
    });
    // Still open and working, and nothing was stored by the bad frames.
    client.send({ type: "get_messages", before_seq: 100 });
    assert.equal((await client.next()).type, "messages");
    assert.deepEqual(await storedSeqs(), [1]);
    await client.close();
  });

  it("answers bad list frames the same way", async () => {
    const client = await WsClient.connect(listUrl(server, user.access));
    await client.next("connection_established");
    await client.next("conversations_list");
    client.send("nope");
    assert.deepEqual(await client.next(), {
      type: "error",
      code: "invalid_json",
      error: "Invalid JSON format",
    });
    client.send({ type: "chat_message", content: "x" });
    assert.deepEqual(await client.next(), {
      type: "error",
      code: "unknown_type",
      error: "Unknown message type: chat_message",
    });
    client.send({ type: "get_conversations", status: "sleeping" });
    assert.equal((await client.next()).code, "invalid_message");
    client.send({ type: "get_conversations", limit: 500 });
    assert.equal((await client.next()).code, "invalid_message");
    client.send({ type: "get_conversations", cursor: "not-a-cursor" });
    assert.equal((await client.next()).code, "invalid_message");
    await client.close();
  });

  it("closes 1009 on a frame over 64 KiB and stores nothing", async () => {
    const { client } = await openChat(server, conversationId, user.access);
    client.send({ type: "chat_message", content: "y".repeat(70 * 1024) });
    assert.equal((await client.closed).code, 1009);
    assert.deepEqual(await storedSeqs(), [1]);
  });

  it("answers frames over the rate limit with rate_limited, then closes 1008 on abuse", async () => {
    const limited = await startServer({ env: { WS_RATE_LIMIT: "5" } });
    try {
      const owner = await registerUser(limited, "rita");
      const id = (await ingest(limited, owner.id, "hi")).conversation.id;
      const { client } = await openChat(limited, id, owner.access);
      for (let i = 0; i < 6; i++) client.send({ type: "get_messages", before_seq: 2, limit: 1 });
      const answers = await client.collect("messages", 5);
      assert.equal(answers.length, 5);
      assert.deepEqual(await client.next(), {
        type: "error",
        code: "rate_limited",
        error: "Too many frames: slow down",
      });
      for (let i = 0; i < 10; i++) client.send({ type: "typing", is_typing: true });
      assert.equal((await client.closed).code, 1008);
    } finally {
      await limited.close();
    }
  });

  it("drops a socket that stops answering pings and keeps one that answers", async () => {
    const url = `${server.wsUrl}/ws/chat/${conversationId}/?token=${user.access}`;
    const silent = new WebSocket(url, { autoPong: false });
    const silentClosed = new Promise<number>((resolve) =>
      silent.on("close", (code) => resolve(code)),
    );
    const healthy = await WsClient.connect(url);
    const started = Date.now();
    const code = await silentClosed;
    assert.equal(code, 1006, "terminated without a close frame");
    assert.ok(Date.now() - started < 1500);
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal(healthy.socket.readyState, WebSocket.OPEN);
    await healthy.close();
  });
});
