import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PHOTO_BYTES } from "../helpers/fake-telegram.js";
import type { TestServer, TestUser } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import {
  connectTelegram,
  conversations,
  eventually,
  messagesOf,
  openList,
  type Platforms,
  postTelegram,
  privateMessage,
  startTelegramSuite,
  type TelegramChannel,
  telegramUser,
} from "./support.js";

describe("telegram webhook", () => {
  let fakes: Platforms;
  let server: TestServer;
  let owner: TestUser;
  let channel: TelegramChannel;

  before(async () => {
    ({ fakes, server, owner, channel } = await startTelegramSuite());
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  const totalMessages = async () => {
    let n = 0;
    for (const c of await conversations(server, owner)) {
      n += (await messagesOf(server, owner, String(c.id))).length;
    }
    return n;
  };

  it("refuses a forged, missing or other channel's secret with 401 and stores nothing", async () => {
    assert.ok(channel.secret && channel.secret.length >= 32);
    const before = await totalMessages();
    const other = await connectTelegram(server, fakes, owner);
    const update = privateMessage(telegramUser(), { text: "let me in" });
    for (const [secret, path] of [
      ["forged-secret", undefined],
      [undefined, undefined],
      [`${channel.secret}x`, undefined],
      [other.secret, undefined],
      // An unknown channel answers exactly like a wrong secret.
      [channel.secret, "/api/webhooks/telegram/ch_doesnotexist/"],
    ] as const) {
      const res = await postTelegram(server, channel.id, secret, update, path);
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: "Invalid webhook secret", code: "unauthorized" });
    }
    assert.equal(await totalMessages(), before);
  });

  it("stores a private text message and announces it once", async () => {
    const list = await openList(server, owner);
    const from = telegramUser({ first_name: "Maria", last_name: "Silva", username: "maria_s" });
    const update = privateMessage(from, { text: "Where is my parcel?" });
    const res = await postTelegram(server, channel.id, channel.secret, update);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");

    const frame = await list.next("new_customer_message");
    const message = frame.message as Record<string, unknown>;
    assert.equal(message.content, "Where is my parcel?");
    assert.equal(message.type, "customer");
    assert.equal(message.delivery_status, "received");
    assert.deepEqual(
      { ...(message.customer as object), id: 0 },
      {
        id: 0,
        first_name: "Maria",
        last_name: "Silva",
        username: "maria_s",
        source: "telegram",
        profile_picture: null,
      },
    );
    const updated = await list.next("conversation_updated");
    assert.equal((updated.conversation as { title: string }).title, "telegram - Maria Silva");
    await list.close();
  });

  it("drops a __proto__ key from an update instead of refusing it, and pollutes nothing", async () => {
    const from = telegramUser({ first_name: "Proto", last_name: "Key" });
    const update = JSON.stringify(privateMessage(from, { text: "odd client" })).replace(
      '"message":{',
      '"__proto__":{"polluted":true},"message":{"constructor":{"prototype":{"polluted":true}},',
    );
    const res = await postTelegram(server, channel.id, channel.secret, update);
    assert.equal(res.status, 200);
    const conversation = await eventually(async () =>
      (await conversations(server, owner)).find((c) => c.title === "telegram - Proto Key"),
    );
    const messages = await messagesOf(server, owner, String(conversation.id));
    assert.deepEqual(
      messages.map((m) => m.content),
      ["odd client"],
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("also answers on the path without the trailing slash", async () => {
    const update = privateMessage(telegramUser(), { text: "no slash" });
    const res = await postTelegram(
      server,
      channel.id,
      channel.secret,
      update,
      `/api/webhooks/telegram/${channel.id}`,
    );
    assert.equal(res.status, 200);
  });

  it("stores a repeated or concurrent delivery of one update once, with one set of frames", async () => {
    const from = telegramUser();
    const list = await openList(server, owner);
    await postTelegram(server, channel.id, channel.secret, privateMessage(from, { text: "first" }));
    const firstFrame = await list.next("new_customer_message");
    const conversationId = String(firstFrame.conversation_id);
    await list.drain(50);
    const chat = await WsClient.connect(
      `${server.wsUrl}/ws/chat/${conversationId}/?token=${owner.access}`,
    );
    await chat.next("recent_messages");

    const update = privateMessage(from, { text: "sent twice, and twice at once" });
    const results = await Promise.all([
      postTelegram(server, channel.id, channel.secret, update),
      postTelegram(server, channel.id, channel.secret, update),
    ]);
    const again = await postTelegram(server, channel.id, channel.secret, update);
    assert.deepEqual(
      [...results, again].map((r) => r.status),
      [200, 200, 200],
    );

    const chatFrames = await chat.drain(300);
    assert.deepEqual(
      chatFrames.map((f) => [f.type, (f.message as { content: string; seq: number }).content]),
      [["chat_message", "sent twice, and twice at once"]],
    );
    assert.equal((chatFrames[0]?.message as { seq?: number } | undefined)?.seq, 2);
    const listFrames = await list.drain(50);
    assert.deepEqual(
      listFrames.map((f) => f.type),
      ["new_customer_message", "conversation_updated"],
    );
    const contents = (await messagesOf(server, owner, conversationId)).map((m) => m.content);
    assert.deepEqual(contents, ["first", "sent twice, and twice at once"]);
    await Promise.all([list.close(), chat.close()]);
  });

  it("makes one customer and one conversation of two first messages arriving at once", async () => {
    const from = telegramUser({ first_name: "Twin", last_name: "Start", username: "twin" });
    const results = await Promise.all([
      postTelegram(server, channel.id, channel.secret, privateMessage(from, { text: "one" })),
      postTelegram(server, channel.id, channel.secret, privateMessage(from, { text: "two" })),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200],
    );
    const mine = (await conversations(server, owner)).filter(
      (c) => c.title === "telegram - Twin Start",
    );
    assert.equal(mine.length, 1);
    const contents = (await messagesOf(server, owner, String(mine[0]?.id))).map((m) => m.content);
    assert.deepEqual([...contents].sort(), ["one", "two"]);
  });

  it("ignores group, supergroup and channel chats with 200", async () => {
    const before = await totalMessages();
    const from = telegramUser();
    for (const type of ["group", "supergroup"] as const) {
      const update = {
        update_id: 1,
        message: {
          message_id: 10,
          date: Math.floor(Date.now() / 1000),
          chat: { id: -100123, type, title: "Team chat" },
          from,
          text: "hello everyone",
        },
      };
      const res = await postTelegram(server, channel.id, channel.secret, update);
      assert.equal(res.status, 200);
    }
    const post = {
      update_id: 2,
      channel_post: {
        message_id: 11,
        date: Math.floor(Date.now() / 1000),
        chat: { id: -100456, type: "channel", title: "News" },
        text: "announcement",
      },
    };
    assert.equal((await postTelegram(server, channel.id, channel.secret, post)).status, 200);
    assert.equal(await totalMessages(), before);
  });

  it("answers 400 to malformed JSON and 200 to a well-formed but odd update, storing nothing", async () => {
    const before = await totalMessages();
    const bad = await postTelegram(server, channel.id, channel.secret, "{not json");
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, "invalid_json");
    for (const odd of [
      { update_id: "x" },
      { update_id: 5, message: { message_id: 1, chat: { id: 1, type: "private" } } },
      { update_id: 6, callback_query: { id: "1", data: "x" } },
      [1, 2, 3],
    ]) {
      const res = await postTelegram(server, channel.id, channel.secret, odd);
      assert.equal(res.status, 200, JSON.stringify(odd));
    }
    assert.equal(await totalMessages(), before);
  });

  it("keeps captions as written, labels media without one, and lists the attachments", async () => {
    const { username: _none, ...from } = telegramUser({ first_name: "Media", last_name: "Sender" });
    const photo = [
      { file_id: "AgACAgI-small", file_unique_id: "s", width: 90, height: 90 },
      { file_id: "AgACAgI-large", file_unique_id: "l", width: 1280, height: 960 },
    ];
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ photo, caption: "the broken part " }, "the broken part ", "photo"],
      [{ photo }, "[photo]", "photo"],
      [{ location: { latitude: 52.52, longitude: 13.405 } }, "[location]", "location"],
      [
        {
          sticker: {
            file_id: "CAACAgI",
            file_unique_id: "st",
            type: "regular",
            width: 512,
            height: 512,
            is_animated: false,
            is_video: false,
            emoji: "😀",
          },
        },
        "[sticker]",
        "sticker",
      ],
      [
        {
          document: { file_id: "BQACAgI", file_unique_id: "d", file_name: "report.pdf" },
        },
        "[document]",
        "document",
      ],
      [
        { voice: { file_id: "AwACAgI", file_unique_id: "v", duration: 7 } },
        "[voice message]",
        "voice",
      ],
      [
        { contact: { phone_number: "+4930123456", first_name: "Ana", last_name: "Lee" } },
        "[contact]",
        "contact",
      ],
    ];
    const list = await openList(server, owner);
    for (const [fields] of cases) {
      const res = await postTelegram(
        server,
        channel.id,
        channel.secret,
        privateMessage(from, fields as never),
      );
      assert.equal(res.status, 200);
    }
    const frames = await list.collect("new_customer_message", cases.length);
    const messages = frames.map(
      (f) => f.message as { content: string; attachments: Array<{ kind: string }> },
    );
    assert.deepEqual(
      messages.map((m) => [m.content, m.attachments.map((a) => a.kind)]),
      cases.map(([, content, kind]) => [content, [kind]]),
    );
    await list.close();
  });

  it("applies edited_message to the stored message and pushes message_updated", async () => {
    const from = telegramUser({ first_name: "Edit", last_name: "Or" });
    const original = privateMessage(from, { text: "I ordered 3 items" }, { messageId: 4242 });
    await postTelegram(server, channel.id, channel.secret, original);
    const conv = (await conversations(server, owner)).find((c) => c.title === "telegram - Edit Or");
    assert.ok(conv);
    const chat = await WsClient.connect(
      `${server.wsUrl}/ws/chat/${String(conv.id)}/?token=${owner.access}`,
    );
    await chat.next("recent_messages");

    const edit = privateMessage(
      from,
      { text: "I ordered 4 items" },
      { messageId: 4242, edited: true },
    );
    const res = await postTelegram(server, channel.id, channel.secret, edit);
    assert.equal(res.status, 200);
    const frame = await chat.next("message_updated");
    const message = frame.message as { content: string; seq: number; type: string };
    assert.equal(message.content, "I ordered 4 items");
    assert.equal(message.seq, 1);
    assert.equal(message.type, "customer");
    const stored = await messagesOf(server, owner, String(conv.id));
    assert.deepEqual(
      stored.map((m) => m.content),
      ["I ordered 4 items"],
    );
    // An edit of a message never seen changes nothing and still answers 200.
    const unknown = privateMessage(from, { text: "??" }, { messageId: 999999, edited: true });
    assert.equal((await postTelegram(server, channel.id, channel.secret, unknown)).status, 200);
    assert.deepEqual(await chat.drain(100), []);
    await chat.close();
  });

  it("fills a new customer's picture with a token-free URL that serves the photo", async () => {
    const from = telegramUser({ first_name: "Pic", last_name: "Ture" });
    fakes.telegram.setProfilePhoto(from.id, "AgACAgIAAxUAAWf-profile");
    const list = await openList(server, owner);
    await postTelegram(server, channel.id, channel.secret, privateMessage(from, { text: "hi" }));
    await list.next("new_customer_message");
    await list.next("conversation_updated");
    // The background profile fetch announces the filled-in conversation.
    const filled = await list.next("conversation_updated");
    const customer = (filled.conversation as { customer: { profile_picture: string } }).customer;
    const url = customer.profile_picture;
    assert.ok(
      url.startsWith(
        `https://chat.example.test/api/channels/${channel.id}/avatars/${from.id}?sig=`,
      ),
      url,
    );
    assert.ok(!url.includes(channel.token) && !url.includes(channel.token.split(":")[1] ?? "?"));

    const local = url.replace("https://chat.example.test", server.baseUrl);
    const photo = await fetch(local);
    assert.equal(photo.status, 200);
    assert.equal(photo.headers.get("content-type"), "image/jpeg");
    assert.deepEqual(Buffer.from(await photo.arrayBuffer()), PHOTO_BYTES);
    const forged = await fetch(local.replace(/sig=.*/, "sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert.equal(forged.status, 404);
    await list.close();
  });

  it("leaves the picture empty when the customer shows none", async () => {
    const from = telegramUser({ first_name: "No", last_name: "Photo" });
    await postTelegram(server, channel.id, channel.secret, privateMessage(from, { text: "hi" }));
    await fakes.telegram.waitForCalls("getUserProfilePhotos", 1);
    await eventually(() =>
      fakes.telegram.callsTo("getUserProfilePhotos").some((c) => c.body.user_id === from.id)
        ? true
        : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const conv = (await conversations(server, owner)).find(
      (c) => c.title === "telegram - No Photo",
    );
    assert.ok(conv);
    assert.equal((conv.customer as { profile_picture: unknown }).profile_picture, null);
  });
});
