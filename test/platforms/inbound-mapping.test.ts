import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Update } from "grammy/types";
import type { Channel } from "../../src/domain/types.js";
import { instagramEvents } from "../../src/platforms/instagram/inbound.js";
import { profileFields } from "../../src/platforms/instagram/instagram-messages.js";
import { describeInstagramMessage } from "../../src/platforms/platform-content.js";
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

const contentOf = (u: unknown): string => {
  const action = mapTelegramUpdate(channel, u);
  assert.equal(action.kind, "message", JSON.stringify(action));
  return action.kind === "message" ? action.inbound.content : "";
};

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

  it("names every kind of media, with the caption after it", () => {
    const file = { file_id: "F", file_unique_id: "U" };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ photo: [{ ...file, width: 1, height: 1 }], caption: " look " }, "[photo] look"],
      [{ video: { ...file, width: 1, height: 1, duration: 3 }, caption: "clip" }, "[video] clip"],
      [
        {
          animation: { ...file, width: 1, height: 1, duration: 1 },
          document: { ...file, file_name: "a.gif.mp4" },
        },
        "[animation]",
      ],
      [{ video_note: { ...file, length: 1, duration: 1 } }, "[video message]"],
      [{ voice: { ...file, duration: 7 } }, "[voice message]"],
      [
        { audio: { ...file, duration: 200, performer: "Nina", title: "Song" } },
        "[audio Nina - Song]",
      ],
      [{ audio: { ...file, duration: 200, file_name: "memo.mp3" } }, "[audio memo.mp3]"],
      [
        { document: { ...file, file_name: "report.pdf" }, caption: "Q3" },
        "[document report.pdf] Q3",
      ],
      [{ document: file }, "[document]"],
      [{ sticker: { ...file, emoji: "😀" } }, "[sticker 😀]"],
      [{ sticker: file }, "[sticker]"],
      [{ contact: { phone_number: "+15550100", first_name: "Bo" } }, "[contact Bo +15550100]"],
      [{ location: { latitude: 52.52, longitude: 13.405 } }, "[location 52.5200, 13.4050]"],
      [
        {
          venue: { location: { latitude: 1, longitude: 2 }, title: "Cafe", address: "Main St 1" },
          location: { latitude: 1, longitude: 2 },
        },
        "[venue Cafe, Main St 1]",
      ],
      [{ poll: { id: "p", question: "Which size?", options: [] } }, "[poll Which size?]"],
      [{ dice: { emoji: "🎲", value: 4 } }, "[dice 🎲 4]"],
      [{ game: { title: "g" } }, "[unsupported message]"],
    ];
    for (const [fields, content] of cases) assert.equal(contentOf(update(fields)), content);
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
        ["m3", "[image]"],
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
      sentAt: 1736935800123,
    });
  });

  it("refuses bodies that are not Instagram webhooks", () => {
    assert.equal(instagramEvents({ object: "page", entry: [] }), undefined);
    assert.equal(instagramEvents({ object: "instagram" }), undefined);
    assert.equal(instagramEvents("x"), undefined);
    assert.deepEqual(instagramEvents({ object: "instagram", entry: [{ changes: [] }] }), []);
  });

  it("describes unknown attachment kinds and empty messages", () => {
    assert.equal(describeInstagramMessage(undefined, ["hologram"]), "[attachment]");
    assert.equal(describeInstagramMessage("  ", []), "[unsupported message]");
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
