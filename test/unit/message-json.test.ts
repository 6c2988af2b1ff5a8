import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { MessagesFrame, RecentMessagesFrame } from "../../client/wire.js";
import { NO_ATTACHMENT_FIELDS } from "../../src/domain/attachment-fields.js";
import type { Attachment, Customer, Message } from "../../src/domain/types.js";
import {
  attachmentPath,
  isoTime,
  messageView,
  useAttachmentLinks,
} from "../../src/domain/views.js";
import { chatMessageFrame, frameFor, messagesFrame } from "../../src/realtime/frames.js";
import { sampleMessage } from "../helpers/sample-message.js";

// The frames that carry messages are exactly the serialized typed frames of protocol.md
// section 4: the same fields, in the same order, the same escapes.

const customer: Customer = {
  id: 7,
  ownerId: 1,
  source: "telegram",
  externalId: "1001",
  firstName: 'Jane "JJ"',
  lastName: "Ro\\e\n",
  username: null,
  profilePicture: "/api/customers/7/photo/",
  createdAt: 1_700_000_000_000,
};
const other: Customer = { ...customer, id: 8, firstName: "Ünïcödé 😀", username: "u\u2028v" };

const attachment = (overrides: Partial<Attachment>): Attachment => ({
  ...NO_ATTACHMENT_FIELDS,
  id: "a_1",
  kind: "document",
  state: "stored",
  ...overrides,
});

const message = (overrides: Partial<Message>): Message =>
  sampleMessage({ customer, createdAt: 1_764_590_400_123, ...overrides });

const MESSAGES: Message[] = [
  message({}),
  message({
    id: "m_2",
    seq: 2,
    content:
      'quote " backslash \\ tab \t nl \n cr \r nul \u0000 del \u007f ls \u2028 lone \ud800 😀',
    type: "support",
    sender: { id: 3, username: "agent\u0001" },
    isAiResponse: true,
    isAnswered: true,
    deliveryStatus: "failed",
    deliveryError: "Bot was blocked by the user",
    clientId: "client-\u00e9",
    createdAt: 0,
  }),
  message({
    id: "m_3",
    seq: 3,
    content: "",
    customer: other,
    isAnswered: true,
    deliveryStatus: "sent",
    clientId: "",
    createdAt: 951_868_799_999,
    attachments: [
      attachment({ id: "a_1", mimeType: "application/pdf", fileName: "a.pdf", size: 3e9 }),
      attachment({ id: "a_2", kind: "photo", state: "pending", width: 1280, height: 960 }),
      attachment({
        id: "a_3",
        kind: "location",
        state: "none",
        latitude: 48.858370123,
        longitude: -2.294481456e-7,
        title: "Tour",
        address: "Champ de Mars",
      }),
      attachment({
        id: "a_4",
        kind: "contact",
        state: "unavailable",
        phoneNumber: "+33 1",
        firstName: "A",
        lastName: "B",
        duration: 0,
      }),
    ],
  }),
  message({ id: "m_4", seq: 4, customer, createdAt: 1_764_590_400_123.5 }),
];

describe("message frames", () => {
  useAttachmentLinks((id) => `${attachmentPath(id)}?sig=${id}`);
  after(() => useAttachmentLinks(attachmentPath));

  it("recent_messages and messages are the serialized typed frames", () => {
    const views = MESSAGES.map(messageView);
    for (const hasMore of [false, true]) {
      const recent: RecentMessagesFrame = {
        type: "recent_messages",
        messages: views,
        has_more: hasMore,
      };
      assert.equal(messagesFrame("recent_messages", MESSAGES, hasMore), JSON.stringify(recent));
      const resumed: RecentMessagesFrame = { ...recent, resumed: true };
      assert.equal(
        messagesFrame("recent_messages", MESSAGES, hasMore, { resumed: true }),
        JSON.stringify(resumed),
      );
      const page: MessagesFrame = { type: "messages", messages: views, has_more: hasMore };
      assert.equal(messagesFrame("messages", MESSAGES, hasMore), JSON.stringify(page));
      assert.equal(
        messagesFrame("messages", MESSAGES, hasMore, { resumed: true }),
        JSON.stringify(page),
      );
    }
    assert.equal(
      messagesFrame("recent_messages", [], false),
      '{"type":"recent_messages","messages":[],"has_more":false}',
    );
  });

  it("chat_message is the serialized typed frame, as frameFor makes it", () => {
    for (const m of MESSAGES) {
      const expected = JSON.stringify({ type: "chat_message", message: messageView(m) });
      assert.equal(chatMessageFrame(m), expected);
      assert.equal(
        frameFor({ kind: "message_created", conversationId: m.conversationId, message: m }),
        expected,
      );
    }
  });

  it("keeps the field order of section 4, delivery_error last", () => {
    const frame = JSON.parse(messagesFrame("recent_messages", MESSAGES, false)) as {
      messages: Record<string, unknown>[];
    };
    assert.deepEqual(Object.keys(frame.messages[1] ?? {}), [
      "id",
      "conversation_id",
      "seq",
      "content",
      "type",
      "customer",
      "sender",
      "is_ai_response",
      "is_answered",
      "delivery_status",
      "client_id",
      "attachments",
      "created_at",
      "delivery_error",
    ]);
    const attachments = (frame.messages[2]?.attachments ?? []) as { url: string | null }[];
    const urls = attachments.map((a) => a.url);
    assert.deepEqual(urls, [
      "/api/attachments/a_1/?sig=a_1",
      "/api/attachments/a_2/?sig=a_2",
      null,
      null,
    ]);
  });

  it("isoTime is toISOString", () => {
    const times = [
      0, 1, 999, 1000, 59_999, 86_399_999, 86_400_000, 951_782_400_000, 951_868_799_999,
      1_764_590_400_123, 253_402_300_799_999, 253_402_300_800_000, -1, -62_198_755_200_000, 1.5,
      8.64e15,
    ];
    for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString(), `${ms}`);
    // A day's times in steps that visit every hour, minute, second and millisecond digit.
    for (let ms = 1_764_547_200_000; ms < 1_764_633_600_000; ms += 60_001 * 7 + 13) {
      assert.equal(isoTime(ms), new Date(ms).toISOString(), `${ms}`);
    }
    assert.throws(() => isoTime(Number.NaN), RangeError);
  });
});
