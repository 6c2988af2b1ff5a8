import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  compareConversations,
  matchesFilter,
  mergeConversations,
  upsertConversation,
} from "../../client/conversation-order.js";
import type { ConversationView } from "../../client/wire.js";

function conversation(
  id: string,
  updatedSecond: number,
  extra: Partial<ConversationView> = {},
): ConversationView {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, updatedSecond)).toISOString();
  return {
    id,
    title: `telegram - John ${id}`,
    status: "support_active",
    source: "telegram",
    customer: {
      id: 1,
      first_name: "John",
      last_name: id,
      username: null,
      source: "telegram",
      profile_picture: null,
    },
    priority: 1,
    created_at: at,
    updated_at: at,
    last_message: null,
    unread_count: 0,
    ...extra,
  };
}

const ids = (items: ConversationView[]) => items.map((c) => c.id);

describe("conversation list order", () => {
  it("sorts newest updated_at first, then id descending", () => {
    const items = [conversation("a", 1), conversation("c", 2), conversation("b", 2)];
    assert.deepEqual(ids(items.sort(compareConversations)), ["c", "b", "a"]);
  });

  it("moves an updated conversation to its place and keeps one entry per id", () => {
    const items = [conversation("c", 3), conversation("b", 2), conversation("a", 1)];
    const moved = upsertConversation(items, conversation("a", 4), {}, false);
    assert.deepEqual(ids(moved), ["a", "c", "b"]);
    assert.deepEqual(ids(items), ["c", "b", "a"], "the input is not changed");
  });

  it("drops a conversation that no longer matches the filter, adds one that does", () => {
    const items = [conversation("b", 2), conversation("a", 1)];
    const closed = conversation("b", 3, { status: "closed" });
    assert.deepEqual(ids(upsertConversation(items, closed, { status: "support_active" }, false)), [
      "a",
    ]);
    const closedList = [conversation("a", 1, { status: "closed" })];
    assert.deepEqual(ids(upsertConversation(closedList, closed, { status: "closed" }, false)), [
      "b",
      "a",
    ]);
  });

  it("leaves out a new conversation that sorts below the loaded pages", () => {
    const items = [conversation("c", 5), conversation("b", 4)];
    assert.deepEqual(ids(upsertConversation(items, conversation("z", 1), {}, true)), ["c", "b"]);
    assert.deepEqual(ids(upsertConversation(items, conversation("z", 1), {}, false)), [
      "c",
      "b",
      "z",
    ]);
  });

  it("matches search in the title and the customer's names, case-insensitive", () => {
    const c = conversation("x", 1, {
      customer: {
        id: 1,
        first_name: "Ünal",
        last_name: "Doe",
        username: "udoe",
        source: "telegram",
        profile_picture: null,
      },
    });
    assert.equal(matchesFilter(c, { search: "ünal" }), true);
    assert.equal(matchesFilter(c, { search: "UDOE" }), true);
    assert.equal(matchesFilter(c, { search: "nobody" }), false);
    assert.equal(matchesFilter(c, { source: "instagram" }), false);
  });

  it("merging a page keeps the newer copy of each conversation", () => {
    const pushed = conversation("a", 9);
    const merged = mergeConversations([pushed], [conversation("a", 1), conversation("b", 2)]);
    assert.deepEqual(
      merged.map((c) => [c.id, c.updated_at]),
      [
        ["a", pushed.updated_at],
        ["b", conversation("b", 2).updated_at],
      ],
    );
  });

  it("any sequence of upserts leaves the list sorted, unique and equal to a full re-sort", () => {
    const update = fc.record({ id: fc.constantFrom("a", "b", "c", "d", "e"), second: fc.nat(20) });
    fc.assert(
      fc.property(fc.array(update, { maxLength: 40 }), (updates) => {
        let items: ConversationView[] = [];
        const latest = new Map<string, ConversationView>();
        for (const u of updates) {
          const c = conversation(u.id, u.second);
          items = upsertConversation(items, c, {}, false);
          latest.set(u.id, c);
        }
        const expected = [...latest.values()].sort(compareConversations);
        assert.deepEqual(ids(items), ids(expected));
      }),
    );
  });
});
