import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Customer } from "../../src/domain/types.js";
import {
  type AttachmentTuple,
  inPageOrder,
  type PageTuple,
  pageMessages,
  pageSize,
} from "../../src/store/sql/sqlite-pages.js";

// A SQLite page comes as one JSON array of tuples, a message repeated per attachment, in the
// order SQLite produced it; the reader puts it in page order whatever that was.

// Position and id; the other fields null, as for a document the platform refused.
// biome-ignore format: one field a line would hide the shape
const attachment = (position: number, id: string): AttachmentTuple => [position, id, "document", "none", null, null, null, null, null, null, null, null, null, null, null, null, null];

const tuple = (seq: number, a: AttachmentTuple | null = null): PageTuple => [
  `m_${seq}`,
  seq,
  `text ${seq}`,
  "customer",
  null,
  0,
  0,
  "received",
  null,
  null,
  1_000 + seq,
  null,
  a,
];

const customer: Customer = {
  id: 1,
  ownerId: 1,
  source: "telegram",
  externalId: "1",
  firstName: "J",
  lastName: "D",
  username: null,
  profilePicture: null,
  createdAt: 0,
};

describe("SQLite page order", () => {
  const newestFirst = [
    tuple(5),
    tuple(4, attachment(0, "a")),
    tuple(4, attachment(1, "b")),
    tuple(4, attachment(2, "c")),
    tuple(3),
  ];

  it("keeps tuples already in order, and sorts any other order by seq then position", () => {
    assert.equal(inPageOrder(newestFirst, "desc"), newestFirst);
    const shuffled = [
      newestFirst[3],
      newestFirst[0],
      newestFirst[4],
      newestFirst[1],
      newestFirst[2],
    ];
    assert.deepEqual(inPageOrder(shuffled as PageTuple[], "desc"), newestFirst);
    const oldestFirst = [tuple(3), tuple(4, attachment(0, "a")), tuple(4, attachment(1, "b"))];
    const reversed = [...oldestFirst].reverse();
    assert.deepEqual(inPageOrder(reversed, "asc"), oldestFirst);
  });

  it("makes messages oldest first, attachments in position order, cut at the limit", () => {
    const page = {
      tuples: inPageOrder([...newestFirst].reverse(), "desc"),
      order: "desc" as const,
    };
    assert.equal(pageSize(page), 3);
    const messages = pageMessages(page, "c_1", 2, customer);
    assert.deepEqual(
      messages.map((m) => [m.seq, m.attachments.map((a) => a.id)]),
      [
        [4, ["a", "b", "c"]],
        [5, []],
      ],
    );
    assert.equal(messages[0]?.customer, customer);
    assert.equal(messages[0]?.conversationId, "c_1");
  });
});
