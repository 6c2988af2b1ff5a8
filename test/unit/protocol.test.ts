import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  errorFrame,
  type FrameError,
  MAX_FRAME_BYTES,
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  parseChatFrame,
  parseListFrame,
} from "../../src/realtime/protocol.js";

// Client frames of protocol.md sections 4 and 5, and the error frames of section 6.

type Parser = typeof parseChatFrame | typeof parseListFrame;

const raw = (frame: unknown): string => (typeof frame === "string" ? frame : JSON.stringify(frame));

function accepts(parse: Parser, frame: unknown, expected: Record<string, unknown>): void {
  const result = parse(raw(frame));
  assert.deepEqual(result, { ok: true, frame: expected }, `frame ${raw(frame)}`);
}

function refuses(parse: Parser, frame: unknown, error: FrameError): void {
  const result = parse(raw(frame));
  assert.deepEqual(result, { ok: false, error }, `frame ${raw(frame).slice(0, 200)}`);
}

const invalid = (error: string): FrameError => ({ code: "invalid_message", error });
const INVALID_JSON: FrameError = { code: "invalid_json", error: "Invalid JSON format" };

describe("limits", () => {
  it("match the contract", () => {
    assert.equal(MAX_FRAME_BYTES, 64 * 1024);
    assert.equal(PAGE_LIMIT_DEFAULT, 50);
    assert.equal(PAGE_LIMIT_MAX, 100);
  });
});

// Both sockets share the envelope rules.
for (const [name, parse] of [
  ["parseChatFrame", parseChatFrame],
  ["parseListFrame", parseListFrame],
] as const) {
  describe(`${name}: the envelope`, () => {
    for (const text of [
      "{bad",
      "",
      " ",
      "{'type':'typing'}",
      '{"type":"typing",}',
      "undefined",
      "{",
    ]) {
      it(`answers invalid_json for ${JSON.stringify(text)}`, () => {
        refuses(parse, text, INVALID_JSON);
      });
    }

    for (const text of ["[]", '[{"type":"mark_read"}]', "null", "42", '"mark_read"', "true"]) {
      it(`answers invalid_message for the non-object ${text}`, () => {
        refuses(parse, text, invalid("A frame must be a JSON object"));
      });
    }

    for (const frame of [
      {},
      { type: null },
      { type: 5 },
      { type: ["typing"] },
      { kind: "typing" },
    ]) {
      it(`answers invalid_message for a missing or non-string type: ${raw(frame)}`, () => {
        refuses(parse, frame, invalid("type must be a string"));
      });
    }

    for (const type of [
      "nope",
      "",
      "TYPING",
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
    ]) {
      it(`answers unknown_type for ${JSON.stringify(type)}`, () => {
        refuses(parse, { type }, { code: "unknown_type", error: `Unknown message type: ${type}` });
      });
    }

    it("cuts a long unknown type in the error text", () => {
      const type = "x".repeat(1000);
      refuses(
        parse,
        { type },
        { code: "unknown_type", error: `Unknown message type: ${"x".repeat(64)}` },
      );
    });
  });
}

describe("parseChatFrame: chat_message", () => {
  it("accepts content with and without client_id", () => {
    accepts(
      parseChatFrame,
      { type: "chat_message", content: "Hello" },
      { type: "chat_message", content: "Hello" },
    );
    accepts(
      parseChatFrame,
      { type: "chat_message", content: "Hello", client_id: "c-123" },
      { type: "chat_message", content: "Hello", client_id: "c-123" },
    );
    accepts(
      parseChatFrame,
      { type: "chat_message", content: "Hello", client_id: null },
      { type: "chat_message", content: "Hello", client_id: null },
    );
  });

  it("leaves the trimmed-length rule to the chat service, but bounds the raw size", () => {
    // Empty and whitespace content pass the parser; ChatService answers them (invalid_message).
    accepts(
      parseChatFrame,
      { type: "chat_message", content: "" },
      { type: "chat_message", content: "" },
    );
    const longest = "a".repeat(4096 * 4);
    accepts(
      parseChatFrame,
      { type: "chat_message", content: longest },
      { type: "chat_message", content: longest },
    );
    refuses(
      parseChatFrame,
      { type: "chat_message", content: `${longest}a` },
      invalid("content: Too big: expected string to have <=16384 characters"),
    );
  });

  it("drops fields it does not know", () => {
    accepts(
      parseChatFrame,
      { type: "chat_message", content: "Hi", sender: { id: 1 }, seq: 9 },
      { type: "chat_message", content: "Hi" },
    );
  });

  it("refuses a missing or non-string content", () => {
    refuses(
      parseChatFrame,
      { type: "chat_message" },
      invalid("content: Invalid input: expected string, received undefined"),
    );
    refuses(
      parseChatFrame,
      { type: "chat_message", content: 5 },
      invalid("content: Invalid input: expected string, received number"),
    );
    refuses(
      parseChatFrame,
      { type: "chat_message", content: null },
      invalid("content: Invalid input: expected string, received null"),
    );
    refuses(
      parseChatFrame,
      { type: "chat_message", content: ["Hi"] },
      invalid("content: Invalid input: expected string, received array"),
    );
  });

  it("refuses a bad client_id", () => {
    refuses(
      parseChatFrame,
      { type: "chat_message", content: "x", client_id: 5 },
      invalid("client_id: Invalid input: expected string, received number"),
    );
    refuses(
      parseChatFrame,
      { type: "chat_message", content: "x", client_id: "" },
      invalid("client_id: Too small: expected string to have >=1 characters"),
    );
    refuses(
      parseChatFrame,
      { type: "chat_message", content: "x", client_id: "c".repeat(129) },
      invalid("client_id: Too big: expected string to have <=128 characters"),
    );
    accepts(
      parseChatFrame,
      { type: "chat_message", content: "x", client_id: "c".repeat(128) },
      { type: "chat_message", content: "x", client_id: "c".repeat(128) },
    );
  });
});

describe("parseChatFrame: typing", () => {
  it("accepts true and false", () => {
    accepts(
      parseChatFrame,
      { type: "typing", is_typing: true },
      { type: "typing", is_typing: true },
    );
    accepts(
      parseChatFrame,
      { type: "typing", is_typing: false },
      { type: "typing", is_typing: false },
    );
  });

  it("refuses a missing or non-boolean is_typing", () => {
    refuses(
      parseChatFrame,
      { type: "typing" },
      invalid("is_typing: Invalid input: expected boolean, received undefined"),
    );
    refuses(
      parseChatFrame,
      { type: "typing", is_typing: "true" },
      invalid("is_typing: Invalid input: expected boolean, received string"),
    );
    refuses(
      parseChatFrame,
      { type: "typing", is_typing: 1 },
      invalid("is_typing: Invalid input: expected boolean, received number"),
    );
  });
});

describe("parseChatFrame: mark_read", () => {
  it("accepts the bare frame and ignores extra fields", () => {
    accepts(parseChatFrame, { type: "mark_read" }, { type: "mark_read" });
    accepts(parseChatFrame, { type: "mark_read", conversation_id: "c_1" }, { type: "mark_read" });
  });
});

describe("parseChatFrame: get_messages", () => {
  it("accepts before_seq with and without limit, limits 1 and 100", () => {
    accepts(
      parseChatFrame,
      { type: "get_messages", before_seq: 42 },
      { type: "get_messages", before_seq: 42 },
    );
    accepts(
      parseChatFrame,
      { type: "get_messages", before_seq: 42, limit: 1 },
      { type: "get_messages", before_seq: 42, limit: 1 },
    );
    accepts(
      parseChatFrame,
      { type: "get_messages", before_seq: 1, limit: 100 },
      { type: "get_messages", before_seq: 1, limit: 100 },
    );
    // Without before_seq the newest page is meant.
    accepts(parseChatFrame, { type: "get_messages" }, { type: "get_messages" });
  });

  it("refuses limits out of 1..100 and non-integers", () => {
    const base = { type: "get_messages", before_seq: 10 };
    refuses(
      parseChatFrame,
      { ...base, limit: 0 },
      invalid("limit: Too small: expected number to be >=1"),
    );
    refuses(
      parseChatFrame,
      { ...base, limit: 101 },
      invalid("limit: Too big: expected number to be <=100"),
    );
    refuses(
      parseChatFrame,
      { ...base, limit: -5 },
      invalid("limit: Too small: expected number to be >=1"),
    );
    refuses(
      parseChatFrame,
      { ...base, limit: 2.5 },
      invalid("limit: Invalid input: expected int, received number"),
    );
    refuses(
      parseChatFrame,
      { ...base, limit: "10" },
      invalid("limit: Invalid input: expected number, received string"),
    );
  });

  it("refuses a before_seq that is not a positive integer", () => {
    refuses(
      parseChatFrame,
      { type: "get_messages", before_seq: 0 },
      invalid("before_seq: Too small: expected number to be >=1"),
    );
    refuses(
      parseChatFrame,
      { type: "get_messages", before_seq: "5" },
      invalid("before_seq: Invalid input: expected number, received string"),
    );
    refuses(
      parseChatFrame,
      { type: "get_messages", before_seq: 1.5 },
      invalid("before_seq: Invalid input: expected int, received number"),
    );
  });

  it("does not take list frames", () => {
    refuses(
      parseChatFrame,
      { type: "get_conversations" },
      {
        code: "unknown_type",
        error: "Unknown message type: get_conversations",
      },
    );
    refuses(
      parseChatFrame,
      { type: "refresh_conversations" },
      {
        code: "unknown_type",
        error: "Unknown message type: refresh_conversations",
      },
    );
  });
});

describe("parseListFrame: get_conversations", () => {
  it("accepts the bare frame and every filter", () => {
    accepts(parseListFrame, { type: "get_conversations" }, { type: "get_conversations" });
    const full = {
      type: "get_conversations",
      status: "support_active",
      source: "instagram",
      search: "doe",
      limit: 100,
      cursor: "abc",
    };
    accepts(parseListFrame, full, full);
    for (const status of ["active", "support_active", "marketing_active", "closed"]) {
      accepts(
        parseListFrame,
        { type: "get_conversations", status },
        { type: "get_conversations", status },
      );
    }
    accepts(
      parseListFrame,
      { type: "get_conversations", source: "telegram", limit: 1 },
      { type: "get_conversations", source: "telegram", limit: 1 },
    );
  });

  it("takes null as no filter, as the seed frontend sends it", () => {
    const nulls = {
      type: "get_conversations",
      status: null,
      source: null,
      search: null,
      cursor: null,
    };
    accepts(parseListFrame, nulls, nulls);
  });

  it("refuses limits out of 1..100", () => {
    refuses(
      parseListFrame,
      { type: "get_conversations", limit: 0 },
      invalid("limit: Too small: expected number to be >=1"),
    );
    refuses(
      parseListFrame,
      { type: "get_conversations", limit: 101 },
      invalid("limit: Too big: expected number to be <=100"),
    );
    refuses(
      parseListFrame,
      { type: "get_conversations", limit: "50" },
      invalid("limit: Invalid input: expected number, received string"),
    );
  });

  it("refuses unknown statuses and sources and wrong field types", () => {
    refuses(
      parseListFrame,
      { type: "get_conversations", status: "bogus" },
      invalid(
        'status: Invalid option: expected one of "active"|"support_active"|"marketing_active"|"closed"',
      ),
    );
    refuses(
      parseListFrame,
      { type: "get_conversations", source: "whatsapp" },
      invalid('source: Invalid option: expected one of "telegram"|"instagram"'),
    );
    refuses(
      parseListFrame,
      { type: "get_conversations", search: 5 },
      invalid("search: Invalid input: expected string, received number"),
    );
    refuses(
      parseListFrame,
      { type: "get_conversations", search: "s".repeat(201) },
      invalid("search: Too big: expected string to have <=200 characters"),
    );
    refuses(
      parseListFrame,
      { type: "get_conversations", cursor: 5 },
      invalid("cursor: Invalid input: expected string, received number"),
    );
  });
});

describe("parseListFrame: refresh_conversations", () => {
  it("accepts the bare frame", () => {
    accepts(parseListFrame, { type: "refresh_conversations" }, { type: "refresh_conversations" });
  });

  it("does not take chat frames", () => {
    for (const type of ["chat_message", "typing", "mark_read", "get_messages"]) {
      refuses(
        parseListFrame,
        { type, content: "x" },
        {
          code: "unknown_type",
          error: `Unknown message type: ${type}`,
        },
      );
    }
  });
});

describe("errorFrame", () => {
  it("is the section 6 frame, type first", () => {
    assert.equal(
      errorFrame({ code: "invalid_json", error: "Invalid JSON format" }),
      '{"type":"error","code":"invalid_json","error":"Invalid JSON format"}',
    );
    assert.deepEqual(
      JSON.parse(errorFrame({ code: "unknown_type", error: "Unknown message type: X" })),
      {
        type: "error",
        code: "unknown_type",
        error: "Unknown message type: X",
      },
    );
  });

  it("serializes text that needs escaping", () => {
    const frame = errorFrame({ code: "invalid_message", error: 'say "hi"\n</script>' });
    assert.deepEqual(JSON.parse(frame), {
      type: "error",
      code: "invalid_message",
      error: 'say "hi"\n</script>',
    });
  });
});
