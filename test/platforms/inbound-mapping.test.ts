import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Update } from "grammy/types";
import { NO_ATTACHMENT_FIELDS } from "../../src/domain/attachment-fields.js";
import type { Channel } from "../../src/domain/types.js";
import { instagramEvents } from "../../src/platforms/instagram/inbound.js";
import { profileFields } from "../../src/platforms/instagram/instagram-messages.js";
import { instagramContent } from "../../src/platforms/platform-content.js";
import { mapTelegramUpdate } from "../../src/platforms/telegram/inbound.js";

const channel: Channel = {
  id: "ch_test",
  ownerId: 7,
  platform: "telegram",
  name: "@acme_bot",
  externalId: "5550001",
  credentials: { botToken: "5550001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", secretToken: "s" },
  mode: "webhook",
  pollOffset: 0,
  createdAt: 0,
};

const from = {
  id: 424242,
  is_bot: false,
  first_name: "Ana",
  last_name: "Lima",
  username: "ana_l",
  language_code: "pt",
};
const chat = { id: 424242, type: "private" as const, first_name: "Ana", username: "ana_l" };

function update(fields: Record<string, unknown>, kind: "message" | "edited_message" = "message") {
  return {
    update_id: 900001,
    [kind]: { message_id: 77, date: 1736935800, chat, from, ...fields },
  } as unknown as Update;
}

describe("telegram update mapping", () => {
  it("maps a private text message to an inbound message keyed by message_id", () => {
    const action = mapTelegramUpdate(channel, update({ text: "Hi there" }));
    assert.deepEqual(action, {
      kind: "message",
      userId: 424242,
      inbound: {
        channelId: "ch_test",
        ownerId: 7,
        source: "telegram",
        customerExternalId: "424242",
        firstName: "Ana",
        lastName: "Lima",
        username: "ana_l",
        externalMessageId: "77",
        content: "Hi there",
        attachments: [],
        sentAt: 1736935800000,
      },
    });
  });

  it("fills absent last name and username", () => {
    const { last_name: _l, username: _u, ...bare } = from;
    const action = mapTelegramUpdate(channel, {
      update_id: 1,
      message: { message_id: 1, date: 1, chat, from: bare, text: "x" },
    });
    assert.ok(action.kind === "message");
    assert.equal(action.inbound.lastName, "");
    assert.equal(action.inbound.username, null);
  });

  it("keeps the caption as written, labels media without one, and maps every kind", () => {
    const file = { file_id: "F", file_unique_id: "U" };
    const none = NO_ATTACHMENT_FIELDS;
    const ref = (fileId = "F") => ({ platform: "telegram", fileId });
    const cases: Array<[Record<string, unknown>, string, Record<string, unknown>[]]> = [
      [
        {
          photo: [
            { ...file, file_id: "small", width: 90, height: 90, file_size: 900 },
            { ...file, file_id: "large", width: 1280, height: 960, file_size: 48213 },
          ],
          caption: " look ",
        },
        " look ",
        [
          {
            ...none,
            kind: "photo",
            ref: ref("large"),
            mimeType: "image/jpeg",
            size: 48213,
            width: 1280,
            height: 960,
          },
        ],
      ],
      [
        {
          video: { ...file, width: 640, height: 360, duration: 3, mime_type: "video/mp4" },
          caption: "clip",
        },
        "clip",
        [
          {
            ...none,
            kind: "video",
            ref: ref(),
            mimeType: "video/mp4",
            width: 640,
            height: 360,
            duration: 3,
          },
        ],
      ],
      [
        {
          animation: { ...file, width: 1, height: 2, duration: 1 },
          document: { ...file, file_id: "D", file_name: "a.gif.mp4" },
        },
        "[animation]",
        [{ ...none, kind: "animation", ref: ref(), width: 1, height: 2, duration: 1 }],
      ],
      [
        { video_note: { ...file, length: 240, duration: 4 } },
        "[video message]",
        [
          {
            ...none,
            kind: "video_note",
            ref: ref(),
            mimeType: "video/mp4",
            width: 240,
            height: 240,
            duration: 4,
          },
        ],
      ],
      [
        { voice: { ...file, duration: 7, mime_type: "audio/ogg", file_size: 5120 } },
        "[voice message]",
        [{ ...none, kind: "voice", ref: ref(), mimeType: "audio/ogg", size: 5120, duration: 7 }],
      ],
      [
        { audio: { ...file, duration: 200, performer: "Nina", file_name: "memo.mp3" } },
        "[audio]",
        [{ ...none, kind: "audio", ref: ref(), fileName: "memo.mp3", duration: 200 }],
      ],
      [
        {
          document: { ...file, file_name: "report.pdf", mime_type: "application/pdf" },
          caption: "Q3",
        },
        "Q3",
        [
          {
            ...none,
            kind: "document",
            ref: ref(),
            fileName: "report.pdf",
            mimeType: "application/pdf",
          },
        ],
      ],
      [
        { sticker: { ...file, emoji: "😀", width: 512, height: 512, is_animated: false } },
        "[sticker]",
        [{ ...none, kind: "sticker", ref: ref(), mimeType: "image/webp", width: 512, height: 512 }],
      ],
      [
        { contact: { phone_number: "+15550100", first_name: "Bo" } },
        "[contact]",
        [{ ...none, kind: "contact", ref: null, phoneNumber: "+15550100", firstName: "Bo" }],
      ],
      [
        { location: { latitude: 52.52, longitude: 13.405 } },
        "[location]",
        [{ ...none, kind: "location", ref: null, latitude: 52.52, longitude: 13.405 }],
      ],
      [
        {
          venue: { location: { latitude: 1, longitude: 2 }, title: "Cafe", address: "Main St 1" },
          location: { latitude: 1, longitude: 2 },
        },
        "[location]",
        [
          {
            ...none,
            kind: "location",
            ref: null,
            latitude: 1,
            longitude: 2,
            title: "Cafe",
            address: "Main St 1",
          },
        ],
      ],
      [{ poll: { id: "p", question: "Which size?", options: [] } }, "[poll Which size?]", []],
      [{ dice: { emoji: "🎲", value: 4 } }, "[dice 🎲 4]", []],
      [{ game: { title: "g" } }, "[unsupported message]", []],
    ];
    for (const [fields, content, attachments] of cases) {
      const action = mapTelegramUpdate(channel, update(fields));
      assert.ok(action.kind === "message", JSON.stringify(fields));
      assert.equal(action.inbound.content, content);
      assert.deepEqual(action.inbound.attachments, attachments, JSON.stringify(fields));
    }
  });

  it("maps edited_message to an edit of the same message id", () => {
    assert.deepEqual(mapTelegramUpdate(channel, update({ text: "fixed" }, "edited_message")), {
      kind: "edit",
      edit: {
        channelId: "ch_test",
        customerExternalId: "424242",
        externalMessageId: "77",
        content: "fixed",
      },
    });
  });

  it("ignores groups, channels, bots, other update kinds and malformed updates", () => {
    const ignored: unknown[] = [
      update({ text: "hi", chat: { id: -1, type: "group", title: "g" } }),
      update({ text: "hi", chat: { id: -2, type: "supergroup", title: "s" } }),
      update({ text: "hi", from: { ...from, is_bot: true } }),
      update({ text: "no sender", from: undefined }),
      { update_id: 3, channel_post: { message_id: 1, date: 1, chat: { id: -3, type: "channel" } } },
      { update_id: 4, callback_query: { id: "q", from, chat_instance: "c", data: "d" } },
      { update_id: 5, my_chat_member: {} },
      { update_id: "6", message: {} },
      { update_id: 7, message: { message_id: 1, date: 1, chat: { id: 1 } } },
      null,
      "text",
      [],
    ];
    for (const raw of ignored) {
      assert.equal(mapTelegramUpdate(channel, raw).kind, "ignore", JSON.stringify(raw));
    }
  });
});

describe("instagram event mapping", () => {
  const envelope = (messaging: unknown[]) => ({
    object: "instagram",
    entry: [{ id: "17841400000000001", time: 1736935800123, messaging }],
  });
  const event = (message: Record<string, unknown>, sender = "123456") => ({
    sender: { id: sender },
    recipient: { id: "17841400000000001" },
    timestamp: 1736935800123,
    message,
  });

  it("maps text, attachments and timestamps; skips echoes, deletions, reads and junk", () => {
    const events = instagramEvents(
      envelope([
        event({ mid: "m1", text: "hello" }),
        event({ mid: "m2", text: "mine", is_echo: true }, "17841400000000001"),
        event({ mid: "m3", attachments: [{ type: "image", payload: { url: "u" } }] }),
        event({ mid: "m4", is_deleted: true }),
        { sender: { id: "1" }, recipient: { id: "2" }, timestamp: 1, read: { mid: "m1" } },
        { sender: "nobody" },
        event({ mid: "m5", attachments: [{ type: "ig_reel" }, { type: "story_mention" }] }),
        event({ mid: "m6", is_unsupported: true }),
      ]),
    );
    assert.ok(events);
    assert.deepEqual(
      events.map((e) => (e.kind === "message" ? [e.message.mid, e.message.content] : e.reason)),
      [
        ["m1", "hello"],
        "echo",
        ["m3", "[photo]"],
        "unsent message",
        "not a message",
        "malformed messaging event",
        ["m5", "[reel] [story mention]"],
        ["m6", "[unsupported attachment]"],
      ],
    );
    const first = events[0];
    assert.ok(first?.kind === "message");
    assert.deepEqual(first.message, {
      senderId: "123456",
      accountId: "17841400000000001",
      mid: "m1",
      content: "hello",
      attachments: [],
      sentAt: 1736935800123,
    });
  });

  it("refuses bodies that are not Instagram webhooks", () => {
    assert.equal(instagramEvents({ object: "page", entry: [] }), undefined);
    assert.equal(instagramEvents({ object: "instagram" }), undefined);
    assert.equal(instagramEvents("x"), undefined);
    assert.deepEqual(instagramEvents({ object: "instagram", entry: [{ changes: [] }] }), []);
  });

  it("maps files to attachments, labels the rest, and keeps text as written", () => {
    const url = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1";
    const mapped = instagramContent(undefined, [
      { type: "image", url },
      { type: "file", url },
      { type: "hologram", url: undefined },
    ]);
    assert.equal(mapped.content, "[photo] [document] [attachment]");
    assert.deepEqual(
      mapped.attachments.map((a) => [a.kind, a.ref]),
      [
        ["photo", { platform: "instagram", url }],
        ["document", { platform: "instagram", url }],
      ],
    );
    assert.equal(instagramContent(" hi ", [{ type: "video", url }]).content, " hi ");
    assert.equal(instagramContent("  ", []).content, "[unsupported message]");
  });

  it("splits a profile name and falls back to the username", () => {
    assert.deepEqual(profileFields({ name: "Jane van Doe", username: "jd", profilePic: "p" }), {
      firstName: "Jane",
      lastName: "van Doe",
      username: "jd",
      profilePicture: "p",
    });
    assert.deepEqual(profileFields({ username: "solo" }), {
      firstName: "solo",
      lastName: "",
      username: "solo",
    });
  });
});
