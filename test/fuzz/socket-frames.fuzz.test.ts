import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { MAX_CONTENT_LENGTH } from "../../src/domain/chat-service.js";
import { errorFrame, parseChatFrame, parseListFrame } from "../../src/realtime/protocol.js";
import {
  chatUrl,
  ingest,
  listUrl,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import {
  anyJson,
  anyText,
  assertUnchanged,
  check,
  deepNesting,
  runs,
  storedState,
} from "./fuzz-support.js";

// Bad client frames on both sockets (protocol.md section 6): every one gets its error frame on a
// socket that stays open, and nothing stored changes.

const CHAT_TYPES = ["chat_message", "typing", "mark_read", "get_messages"] as const;
const LIST_TYPES = ["get_conversations", "refresh_conversations"] as const;

/** Wrong-typed values for a field that expects something else. */
const wrongValue = fc.oneof(
  anyJson,
  fc.string({ minLength: 16_385, maxLength: 40_000 }),
  fc.constantFrom(-1, 0, 1.5, 101, 1e308, -0, "", "   ", null, true, [], {}),
);

const mutatedChat = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom(...CHAT_TYPES), fc.string({ maxLength: 30 }), anyJson),
      content: wrongValue,
      client_id: wrongValue,
      is_typing: wrongValue,
      before_seq: wrongValue,
      limit: wrongValue,
    },
    { requiredKeys: ["type"] },
  )
  .map((frame) => JSON.stringify(frame));

const mutatedList = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom(...LIST_TYPES), fc.string({ maxLength: 30 }), anyJson),
      status: wrongValue,
      source: wrongValue,
      search: wrongValue,
      limit: wrongValue,
      cursor: wrongValue,
    },
    { requiredKeys: ["type"] },
  )
  .map((frame) => JSON.stringify(frame));

/** The error frame the server owes `raw`, or undefined when `raw` is a valid frame (skipped). */
function expectedChatAnswer(raw: string): string | undefined {
  const parsed = parseChatFrame(raw);
  if (!parsed.ok) return errorFrame(parsed.error);
  if (parsed.frame.type !== "chat_message") return undefined;
  const content = parsed.frame.content.trim();
  if (content.length === 0) {
    return errorFrame({ code: "invalid_message", error: "content must not be empty" });
  }
  if (content.length > MAX_CONTENT_LENGTH) {
    return errorFrame({
      code: "invalid_message",
      error: `content must be at most ${MAX_CONTENT_LENGTH} characters`,
    });
  }
  return undefined;
}

function expectedListAnswer(raw: string): string | undefined {
  const parsed = parseListFrame(raw);
  return parsed.ok ? undefined : errorFrame(parsed.error);
}

describe("fuzzed socket frames", () => {
  let server: TestServer;
  let user: TestUser;
  let conversationId: string;

  before(async () => {
    server = await startServer({ env: { WS_RATE_LIMIT: "0" } });
    user = await registerUser(server);
    conversationId = (await ingest(server, user.id, "a customer message")).conversation.id;
  });
  after(() => server.close());

  /** Sends each input and expects exactly its error frame, on a socket that stays open. */
  async function fuzzSocket(
    name: string,
    url: string,
    greeting: number,
    inputs: fc.Arbitrary<string>,
    expected: (raw: string) => string | undefined,
    numRuns: number,
  ) {
    const client = await WsClient.connect(url);
    for (let i = 0; i < greeting; i++) await client.next();
    const before = await storedState(server, user.id);
    // Under the 64 KiB frame limit (a bigger frame closes the socket: tested on its own below).
    const invalid = inputs.filter(
      (raw) => Buffer.byteLength(raw) < 64 * 1024 && expected(raw) !== undefined,
    );
    await check(
      name,
      invalid,
      async (raw) => {
        // While shrinking, a failed run may have left its answer unread.
        await client.drain(0);
        assert.equal(client.socket.readyState, client.socket.OPEN, "the socket stays open");
        client.send(raw);
        const answer = await client.next();
        assert.deepEqual(answer, JSON.parse(expected(raw) as string));
      },
      numRuns,
    );
    assert.equal(client.socket.readyState, client.socket.OPEN);
    await assertUnchanged(server, user.id, before);
    client.socket.close();
  }

  it("chat socket: any JSON, text, mutated frames and deep nesting", async () => {
    await fuzzSocket(
      "chat socket frames",
      chatUrl(server, conversationId, user.access),
      2,
      fc.oneof(
        anyJson.map((v) => JSON.stringify(v)),
        anyText,
        mutatedChat,
        mutatedChat,
        deepNesting({ type: "chat_message" }, "content"),
        deepNesting({ type: "typing" }, "is_typing"),
        fc
          .string({ minLength: 4097, maxLength: 16_000 })
          .map((s) => JSON.stringify({ type: "chat_message", content: `${s}x` })),
      ),
      expectedChatAnswer,
      runs(250),
    );
  });

  it("list socket: any JSON, text, mutated frames and deep nesting", async () => {
    await fuzzSocket(
      "list socket frames",
      listUrl(server, user.access),
      2,
      fc.oneof(
        anyJson.map((v) => JSON.stringify(v)),
        anyText,
        mutatedList,
        mutatedList,
        deepNesting({ type: "get_conversations" }, "search"),
      ),
      expectedListAnswer,
      runs(150),
    );
  });

  it("binary frames on both sockets: invalid_message, socket open", async () => {
    const chat = await WsClient.connect(chatUrl(server, conversationId, user.access));
    const list = await WsClient.connect(listUrl(server, user.access));
    for (const c of [chat, list]) {
      await c.next();
      await c.next();
    }
    const before = await storedState(server, user.id);
    await check(
      "binary frames",
      fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 2048 })),
      async ([onChat, bytes]) => {
        const client = onChat ? chat : list;
        client.socket.send(bytes, { binary: true });
        assert.deepEqual(await client.next(), {
          type: "error",
          code: "invalid_message",
          error: "Binary frames are not supported",
        });
      },
      runs(80),
    );
    await assertUnchanged(server, user.id, before);
    chat.socket.close();
    list.socket.close();
  });

  it("invalid UTF-8 in a text frame closes with 1007; over 64 KiB with 1009", async () => {
    const before = await storedState(server, user.id);
    for (const bytes of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0x7b, 0xe2, 0x82]]) {
      const client = await WsClient.connect(chatUrl(server, conversationId, user.access));
      await client.next();
      await client.next();
      client.socket.send(Buffer.from(bytes), { binary: false });
      assert.equal((await client.closed).code, 1007, JSON.stringify(bytes));
    }
    const big = await WsClient.connect(listUrl(server, user.access));
    await big.next();
    big.send(JSON.stringify({ type: "get_conversations", search: "x".repeat(65 * 1024) }));
    assert.equal((await big.closed).code, 1009);
    await assertUnchanged(server, user.id, before);
  });
});
