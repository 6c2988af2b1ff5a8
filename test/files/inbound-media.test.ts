import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AttachmentView, MessageView } from "../../client/wire.js";
import { heldUntil, telegramError } from "../helpers/fake-telegram.js";
import { SAMPLES } from "../helpers/media-samples.js";
import { registerUser, type TestServer, type TestUser } from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import {
  connectInstagram,
  connectTelegram,
  eventually,
  instagramBody,
  openList,
  type Platforms,
  postInstagram,
  postTelegram,
  privateMessage,
  startFakes,
  startPlatformServer,
  startTelegramSuite,
  type TelegramChannel,
  telegramUser,
} from "../platforms/support.js";
import { attachmentState, fetchBytes } from "./support.js";

// Section 7b, inbound: every Telegram media kind, locations, venues and contacts, and Instagram
// files become attachments; the download job keeps the bytes, retries, and leaves a file the
// platform refuses as an attachment without a link; the webhook never waits for a download.

const NULLS = {
  mime_type: null,
  file_name: null,
  size: null,
  width: null,
  height: null,
  duration: null,
  url: null,
  latitude: null,
  longitude: null,
  title: null,
  address: null,
  phone_number: null,
  first_name: null,
  last_name: null,
};

let nextId = 1;

describe("inbound media", () => {
  let fakes: Platforms;
  let server: TestServer;
  let owner: TestUser;
  let channel: TelegramChannel;
  let list: WsClient;

  before(async () => {
    ({ fakes, server, owner, channel } = await startTelegramSuite());
    list = await openList(server, owner);
  });
  after(async () => {
    await list.close();
    await server.close();
    await fakes.close();
  });

  /** Posts one Telegram message and answers the message of its `new_customer_message`. */
  async function telegramSends(fields: Record<string, unknown>): Promise<MessageView> {
    const from = telegramUser({ first_name: `Kind${nextId++}` });
    const res = await postTelegram(
      server,
      channel.id,
      channel.secret,
      privateMessage(from, fields as never),
    );
    assert.equal(res.status, 200);
    const frame = await list.next("new_customer_message");
    return frame.message as MessageView;
  }

  it("keeps every Telegram file kind, fetched once into the store", async () => {
    const cases: Array<[string, Buffer, (fileId: string) => Record<string, unknown>, string]> = [
      [
        "photo",
        SAMPLES.jpeg,
        (id) => ({
          photo: [
            { file_id: `${id}-s`, file_unique_id: "s", width: 90, height: 68, file_size: 900 },
            { file_id: id, file_unique_id: "l", width: 1280, height: 960, file_size: 10 },
          ],
        }),
        "image/jpeg",
      ],
      [
        "video",
        SAMPLES.mp4,
        (id) => ({
          video: { file_id: id, file_unique_id: id, width: 640, height: 360, duration: 3 },
          caption: "the noise it makes",
        }),
        "video/mp4",
      ],
      [
        "animation",
        SAMPLES.mp4,
        (id) => ({
          animation: { file_id: id, file_unique_id: id, width: 320, height: 240, duration: 2 },
          document: { file_id: `${id}-doc`, file_unique_id: "d", file_name: "a.gif.mp4" },
        }),
        "video/mp4",
      ],
      [
        "audio",
        SAMPLES.mp3,
        (id) => ({
          audio: { file_id: id, file_unique_id: id, duration: 200, file_name: "song.mp3" },
        }),
        "audio/mpeg",
      ],
      [
        "voice",
        SAMPLES.opus,
        (id) => ({
          voice: { file_id: id, file_unique_id: id, duration: 7, mime_type: "audio/ogg" },
        }),
        "audio/ogg; codecs=opus",
      ],
      [
        "video_note",
        SAMPLES.mp4,
        (id) => ({ video_note: { file_id: id, file_unique_id: id, length: 240, duration: 4 } }),
        "video/mp4",
      ],
      [
        "document",
        SAMPLES.pdf,
        (id) => ({ document: { file_id: id, file_unique_id: id, file_name: "order.pdf" } }),
        "application/pdf",
      ],
      [
        "sticker",
        SAMPLES.webp,
        (id) => ({
          sticker: {
            file_id: id,
            file_unique_id: id,
            type: "regular",
            width: 512,
            height: 512,
            is_animated: false,
            is_video: false,
          },
        }),
        "image/webp",
      ],
    ];
    for (const [kind, bytes, fields, sniffed] of cases) {
      const fileId = `tg-${kind}-${nextId++}`;
      fakes.telegram.addFile(fileId, bytes);
      const message = await telegramSends(fields(fileId));
      const [attachment] = message.attachments;
      assert.equal(message.attachments.length, 1, kind);
      assert.ok(attachment);
      assert.equal(attachment.kind, kind);
      assert.match(attachment.url ?? "", /^\/api\/attachments\/a_[\w-]+\/\?exp=\d+&sig=[\w-]+$/);
      await attachmentState(server, attachment.id, "stored");
      const res = await fetchBytes(server, attachment.url ?? "");
      assert.equal(res.status, 200, kind);
      assert.ok(res.bytes.equals(bytes), kind);
      assert.equal(res.headers.get("content-type"), sniffed, kind);
      // The largest photo size was fetched, not the thumbnail; the token is in no link.
      assert.ok(fakes.telegram.fileDownloads.includes(`documents/${fileId}`), kind);
      assert.ok(!(attachment.url ?? "").includes(channel.token.split(":")[1] ?? "-"));
    }
    // The caption stays as written; media without one is labelled.
    const contents = list.frames
      .filter((f) => f.type === "new_customer_message")
      .map((f) => (f.message as MessageView).content);
    assert.deepEqual(contents.slice(-8), [
      "[photo]",
      "the noise it makes",
      "[animation]",
      "[audio]",
      "[voice message]",
      "[video message]",
      "[document]",
      "[sticker]",
    ]);
  });

  it("shows the exact attachment object, then the sniffed type and size once stored", async () => {
    const fileId = `tg-exact-${nextId++}`;
    fakes.telegram.addFile(fileId, SAMPLES.png);
    const message = await telegramSends({
      photo: [{ file_id: fileId, file_unique_id: "u", width: 1, height: 1, file_size: 70 }],
      caption: "Look 👀",
    });
    assert.equal(message.content, "Look 👀");
    const attachment = message.attachments[0] as AttachmentView;
    assert.deepEqual(attachment, {
      ...NULLS,
      id: attachment.id,
      kind: "photo",
      mime_type: "image/jpeg",
      size: 70,
      width: 1,
      height: 1,
      url: attachment.url,
    });
    const chat = await WsClient.connect(
      `${server.wsUrl}/ws/chat/${message.conversation_id}/?token=${owner.access}`,
    );
    const recent = await chat.next("recent_messages");
    await attachmentState(server, attachment.id, "stored");
    const updated = await eventually(async () => {
      const again = await fetch(
        `${server.baseUrl}/api/conversations/${message.conversation_id}/messages/`,
        { headers: { authorization: `Bearer ${owner.access}` } },
      );
      const page = (await again.json()) as { messages: MessageView[] };
      return page.messages[0]?.attachments[0];
    });
    assert.deepEqual(updated, {
      ...attachment,
      mime_type: "image/png",
      size: SAMPLES.png.length,
      url: updated.url,
    });
    // The snapshot carried the attachment too; the change came as message_updated.
    assert.equal((recent.messages as MessageView[])[0]?.attachments[0]?.id, attachment.id);
    const change = await chat.next("message_updated");
    assert.equal((change.message as MessageView).attachments[0]?.mime_type, "image/png");
    await chat.close();
  });

  it("maps locations, venues and contacts to attachments without a file", async () => {
    const location = await telegramSends({ location: { latitude: 52.52, longitude: 13.405 } });
    const venue = await telegramSends({
      venue: {
        location: { latitude: 48.8584, longitude: 2.2945 },
        title: "Eiffel Tower",
        address: "Champ de Mars, Paris",
      },
      location: { latitude: 48.8584, longitude: 2.2945 },
    });
    const contact = await telegramSends({
      contact: { phone_number: "+4930123456", first_name: "Ana", last_name: "Lee" },
    });
    const strip = (m: MessageView) => [
      m.content,
      m.attachments.map(({ id: _id, ...rest }) => rest),
    ];
    assert.deepEqual(strip(location), [
      "[location]",
      [{ ...NULLS, kind: "location", latitude: 52.52, longitude: 13.405 }],
    ]);
    assert.deepEqual(strip(venue), [
      "[location]",
      [
        {
          ...NULLS,
          kind: "location",
          latitude: 48.8584,
          longitude: 2.2945,
          title: "Eiffel Tower",
          address: "Champ de Mars, Paris",
        },
      ],
    ]);
    assert.deepEqual(strip(contact), [
      "[contact]",
      [
        {
          ...NULLS,
          kind: "contact",
          phone_number: "+4930123456",
          first_name: "Ana",
          last_name: "Lee",
        },
      ],
    ]);
    const id = contact.attachments[0]?.id ?? "";
    const res = await fetchBytes(server, `/api/attachments/${id}/`, {
      authorization: `Bearer ${owner.access}`,
    });
    assert.equal(res.status, 404);
  });

  it("keeps a file Telegram refuses as too big as an attachment without a link", async () => {
    const fileId = `tg-big-${nextId++}`;
    fakes.telegram.addFile(fileId, SAMPLES.mp4, { tooBig: true });
    const message = await telegramSends({
      video: {
        file_id: fileId,
        file_unique_id: fileId,
        width: 1920,
        height: 1080,
        duration: 600,
        file_size: 52_428_800,
      },
      caption: "the full recording",
    });
    const attachment = message.attachments[0] as AttachmentView;
    assert.equal(message.content, "the full recording");
    assert.equal(message.delivery_status, "received");
    await attachmentState(server, attachment.id, "unavailable");
    const page = await fetch(
      `${server.baseUrl}/api/conversations/${message.conversation_id}/messages/`,
      { headers: { authorization: `Bearer ${owner.access}` } },
    );
    const [stored] = ((await page.json()) as { messages: MessageView[] }).messages;
    assert.deepEqual(stored?.attachments, [
      {
        ...NULLS,
        id: attachment.id,
        kind: "video",
        size: 52_428_800,
        width: 1920,
        height: 1080,
        duration: 600,
      },
    ]);
    assert.equal((await fetchBytes(server, attachment.url ?? "")).status, 404);
    // One getFile: "file is too big" is final, never retried.
    assert.equal(
      fakes.telegram.callsTo("getFile").filter((c) => c.body.file_id === fileId).length,
      1,
    );
  });

  it("retries a download that failed on the way, then keeps the file", async () => {
    const fileId = `tg-retry-${nextId++}`;
    fakes.telegram.addFile(fileId, SAMPLES.pdf);
    fakes.telegram.script("getFile", telegramError(502, "Bad Gateway"));
    fakes.telegram.script("download", { status: 500, body: "oops" });
    const message = await telegramSends({
      document: { file_id: fileId, file_unique_id: fileId, file_name: "retry.pdf" },
    });
    const attachment = message.attachments[0] as AttachmentView;
    await attachmentState(server, attachment.id, "stored");
    assert.equal(
      fakes.telegram.callsTo("getFile").filter((c) => c.body.file_id === fileId).length,
      3,
    );
    const res = await fetchBytes(server, attachment.url ?? "");
    assert.ok(res.bytes.equals(SAMPLES.pdf));
  });

  it("answers the webhook while the download is still running", async () => {
    const fileId = `tg-slow-${nextId++}`;
    fakes.telegram.addFile(fileId, SAMPLES.jpeg);
    // getFile answers only after the webhook's answer was seen.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    fakes.telegram.script("getFile", heldUntil(held));
    const from = telegramUser({ first_name: "Slow" });
    const res = await postTelegram(
      server,
      channel.id,
      channel.secret,
      privateMessage(from, {
        document: { file_id: fileId, file_unique_id: fileId, file_name: "x.jpg" },
      } as never),
    );
    assert.equal(res.status, 200);
    const frame = await list.next("new_customer_message");
    const open = fakes.telegram.callsTo("getFile").filter((c) => c.body.file_id === fileId);
    // The download had begun (or not even that) and had not finished when the answer came.
    assert.ok(open.every((c) => c.endedAt === undefined));
    release();
    const attachment = (frame.message as MessageView).attachments[0] as AttachmentView;
    await attachmentState(server, attachment.id, "stored");
  });

  describe("instagram", () => {
    let account: { id: string; accountId: string };

    before(async () => {
      account = await connectInstagram(server, owner);
    });

    it("keeps image, video, audio and file attachments from the CDN link", async () => {
      const items: Array<[string, Buffer, string, string]> = [
        ["image", SAMPLES.jpeg, "photo", "image/jpeg"],
        ["video", SAMPLES.mp4, "video", "video/mp4"],
        ["audio", SAMPLES.mp3, "audio", "audio/mpeg"],
        ["file", SAMPLES.pdf, "document", "application/pdf"],
      ];
      const body = instagramBody(account.accountId, [
        {
          sender: "7100000000000001",
          text: "my order, see attached",
          attachments: items.map(([type, bytes]) => ({
            type,
            payload: { url: fakes.instagram.cdnUrl(bytes) },
          })),
        },
      ]);
      assert.equal((await postInstagram(server, body)).status, 200);
      const message = (await list.next("new_customer_message")).message as MessageView;
      assert.equal(message.content, "my order, see attached");
      assert.deepEqual(
        message.attachments.map((a) => a.kind),
        items.map(([, , kind]) => kind),
      );
      for (const [index, [, bytes, , mime]] of items.entries()) {
        const attachment = message.attachments[index] as AttachmentView;
        await attachmentState(server, attachment.id, "stored");
        const res = await fetchBytes(server, attachment.url ?? "");
        assert.ok(res.bytes.equals(bytes));
        assert.equal(res.headers.get("content-type"), mime);
      }
      // Still served after the platform's own link has expired.
      for (const fetched of fakes.instagram.cdnFetches) assert.equal(fetched.status, 200);
      const first = message.attachments[0] as AttachmentView;
      const url = (body.entry[0]?.messaging[0]?.message.attachments?.[0]?.payload?.url ??
        "") as string;
      fakes.instagram.expire(url);
      assert.equal((await fetchBytes(server, first.url ?? "")).status, 200);
    });

    it("leaves an attachment whose CDN link expired before the fetch without a link", async () => {
      const url = fakes.instagram.cdnUrl(SAMPLES.jpeg, -1000);
      const body = instagramBody(account.accountId, [
        { sender: "7100000000000002", attachments: [{ type: "image", payload: { url } }] },
      ]);
      assert.equal((await postInstagram(server, body)).status, 200);
      const message = (await list.next("new_customer_message")).message as MessageView;
      assert.equal(message.content, "[photo]");
      const attachment = message.attachments[0] as AttachmentView;
      await attachmentState(server, attachment.id, "unavailable");
      assert.equal((await fetchBytes(server, attachment.url ?? "")).status, 404);
    });
  });
});

describe("a link opened before the download job fetched the file", () => {
  let fakes: Platforms;
  let server: TestServer;
  let owner: TestUser;
  let channel: TelegramChannel;

  before(async () => {
    fakes = await startFakes();
    // The job's retry comes a minute later: only an on-demand fetch can serve the link now.
    server = await startPlatformServer(fakes, { env: { DELIVERY_BASE_DELAY_MS: "60000" } });
    owner = await registerUser(server);
    channel = await connectTelegram(server, fakes, owner);
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  it("fetches the file on demand instead of answering 404", async () => {
    const list = await openList(server, owner);
    const fileId = "tg-on-demand";
    fakes.telegram.addFile(fileId, SAMPLES.png);
    fakes.telegram.script("getFile", telegramError(502, "Bad Gateway"));
    const res = await postTelegram(
      server,
      channel.id,
      channel.secret,
      privateMessage(telegramUser(), {
        photo: [{ file_id: fileId, file_unique_id: "u", width: 1, height: 1 }],
      } as never),
    );
    assert.equal(res.status, 200);
    const message = (await list.next("new_customer_message")).message as MessageView;
    const attachment = message.attachments[0] as AttachmentView;
    // The job tried once and failed; the file is still pending.
    await fakes.telegram.waitForCalls("getFile", 1);
    await eventually(async () => {
      const record = await server.server.store.attachments.findById(attachment.id);
      return record?.attachment.state === "pending" && fakes.telegram.callsTo("getFile")[0]?.endedAt
        ? true
        : undefined;
    });
    const served = await fetchBytes(server, attachment.url ?? "");
    assert.equal(served.status, 200);
    assert.ok(served.bytes.equals(SAMPLES.png));
    assert.equal(served.headers.get("content-type"), "image/png");
    assert.equal(
      (await server.server.store.attachments.findById(attachment.id))?.attachment.state,
      "stored",
    );
    await list.close();
  });
});
