import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import {
  ingest,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import {
  anyJson,
  anyText,
  assertUnchanged,
  check,
  deepNesting,
  runs,
  storedState,
} from "./fuzz-support.js";

// Bad REST bodies and query strings (protocol.md sections 2 and 8): each gets a 4xx with
// `{error, code}`, never a 5xx, and nothing stored changes.

type Answer = { status: number; body: unknown };

async function call(
  server: TestServer,
  method: string,
  path: string,
  token: string,
  body?: string,
): Promise<Answer> {
  const res = await fetch(server.baseUrl + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // kept as text: the assertion below names it
  }
  return { status: res.status, body: parsed };
}

function assertClearError(answer: Answer, statuses: number[], what: string): void {
  assert.ok(
    statuses.includes(answer.status),
    `${what}: status ${answer.status} ${JSON.stringify(answer.body)}`,
  );
  const body = answer.body as { error?: unknown; code?: unknown };
  assert.equal(typeof body.error, "string", what);
  assert.equal(typeof body.code, "string", what);
  assert.ok((body.error as string).length > 0, what);
}

/** Values of the wrong type or out of range for every field. */
const wrong = fc.oneof(
  anyJson,
  fc.constantFrom(-1, 0, 1.5, 1001, 1e308, "", "   ", "\u0000", null, true, [], {}),
);

/** Query strings from keys of the contract and others, with raw (unencoded too) values. */
const queryString = (keys: string[]) =>
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })),
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.constantFrom("-1", "0", "1e3", "101", "NaN", "%", "%zz", "%00", "[]", "a&b=c"),
        ),
      ),
      { maxLength: 6 },
    )
    .map((pairs) =>
      pairs
        .map(
          ([k, v]) => `${encodeURIComponent(k)}=${v.startsWith("%") ? v : encodeURIComponent(v)}`,
        )
        .join("&"),
    );

describe("fuzzed REST input", () => {
  let server: TestServer;
  let user: TestUser;
  let conversationId: string;
  let before0: unknown;

  before(async () => {
    server = await startServer();
    user = await registerUser(server);
    conversationId = (await ingest(server, user.id, "a customer message")).conversation.id;
  });
  after(() => server.close());

  it("POST messages: bodies that are not a valid reply", async () => {
    before0 = await storedState(server, user.id);
    const invalidReply = fc.oneof(
      anyJson
        .filter(
          (v) =>
            typeof v !== "object" ||
            v === null ||
            Array.isArray(v) ||
            typeof (v as { content?: unknown }).content !== "string",
        )
        .map((v) => JSON.stringify(v)),
      anyText,
      fc
        .record({
          content: wrong,
          client_id: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), wrong),
        })
        .filter((b) => typeof b.content !== "string" || b.content.trim() === "")
        .map((b) => JSON.stringify(b)),
      fc
        .record({
          content: fc.string({ minLength: 1, maxLength: 20 }).map((s) => `ok ${s}`),
          client_id: fc.oneof(
            fc.constantFrom("", 5, true, [], {}),
            fc.string({ minLength: 129, maxLength: 300 }),
          ),
        })
        .map((b) => JSON.stringify(b)),
      fc
        .string({ minLength: 4097, maxLength: 9000 })
        .map((s) => JSON.stringify({ content: `x${s}` })),
      deepNesting({}, "content"),
    );
    await check(
      "REST reply bodies",
      invalidReply,
      async (body) => {
        const answer = await call(
          server,
          "POST",
          `/api/conversations/${conversationId}/messages/`,
          user.access,
          body,
        );
        assertClearError(answer, [400], body.slice(0, 80));
      },
      runs(150),
    );
    await assertUnchanged(server, user.id, before0);
  });

  it("PATCH conversation: bodies that are not a valid change", async () => {
    const before = await storedState(server, user.id);
    const invalidPatch = fc.oneof(
      anyJson
        .filter(
          (v) =>
            typeof v !== "object" ||
            v === null ||
            Array.isArray(v) ||
            Object.keys(v).length === 0 ||
            !("status" in v || "priority" in v),
        )
        .map((v) => JSON.stringify(v)),
      anyText,
      fc
        .record({ status: wrong, priority: wrong }, { requiredKeys: [] })
        .filter((b) => !(b.status === undefined && b.priority === undefined))
        .filter(
          (b) =>
            !(
              (b.status === undefined ||
                ["active", "support_active", "marketing_active", "closed"].includes(
                  b.status as string,
                )) &&
              (b.priority === undefined ||
                (Number.isInteger(b.priority) &&
                  (b.priority as number) >= 0 &&
                  (b.priority as number) <= 1000))
            ),
        )
        .map((b) => JSON.stringify(b)),
    );
    await check(
      "REST conversation patches",
      invalidPatch,
      async (body) => {
        const answer = await call(
          server,
          "PATCH",
          `/api/conversations/${conversationId}/`,
          user.access,
          body,
        );
        assertClearError(answer, [400], body.slice(0, 80));
      },
      runs(100),
    );
    await assertUnchanged(server, user.id, before);
  });

  it("query strings of the list and history: 200 or a clear 400, nothing changes", async () => {
    const before = await storedState(server, user.id);
    await check(
      "REST query strings",
      fc.tuple(
        fc.boolean(),
        queryString(["status", "source", "search", "limit", "cursor", "before_seq", "after_seq"]),
      ),
      async ([list, query]) => {
        const path = list
          ? `/api/conversations/?${query}`
          : `/api/conversations/${conversationId}/messages/?${query}`;
        const answer = await call(server, "GET", path, user.access);
        if (answer.status === 200) return;
        assertClearError(answer, [400], path);
      },
      runs(150),
    );
    await assertUnchanged(server, user.id, before);
  });

  it("sign-in and refresh bodies: 400 or 401, nothing changes", async () => {
    const before = await storedState(server, user.id);
    await check(
      "REST auth bodies",
      fc.tuple(
        fc.constantFrom("/api/auth/token/", "/api/auth/token/refresh/"),
        fc.oneof(
          anyJson.map((v) => JSON.stringify(v)),
          anyText,
        ),
      ),
      async ([path, body]) => {
        const answer = await call(server, "POST", path, "", body);
        assertClearError(answer, [400, 401], `${path} ${body.slice(0, 80)}`);
      },
      runs(60),
    );
    await assertUnchanged(server, user.id, before);
  });
});
