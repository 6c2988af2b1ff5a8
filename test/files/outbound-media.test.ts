import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { MessageView } from "../../client/wire.js";
import { graphError } from "../helpers/fake-instagram.js";
import { SAMPLES } from "../helpers/media-samples.js";
import {
  ingest,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import {
  connectInstagram,
  eventually,
  instagramBody,
  openList,
  type Platforms,
  PUBLIC_URL,
  postInstagram,
  postTelegram,
  privateMessage,
  startFakes,
  startPlatformServer,
  startTelegramSuite,
  type TelegramChannel,
  telegramUser,
} from "../platforms/support.js";
import { fetchBytes } from "./support.js";

// Section 7b, outbound: an agent's multipart upload becomes a `pending` message with its
// attachment, is sent by kind (Telegram uploads the bytes, Instagram fetches our signed link
// and gets the caption as a second message), durably and without repeats.

/** A multipart upload as a browser sends it. */
async function upload(
  server: TestServer,
  user: TestUser,
  conversationId: string,
  file: { bytes: Buffer; name: string; type?: string } | undefined,
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) {
    form.append("file", new Blob([file.bytes], { type: file.type ?? "image/png" }), file.name);
  }
  const res = await fetch(`${server.baseUrl}/api/conversations/${conversationId}/messages/`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.access}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as MessageView & Record<string, unknown> };
}

const filesIn = (dataDir: string) => {
  const dir = join(dataDir, "files");
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith(".")) : [];
};

describe("outbound media", () => {
  let fakes: Platforms;
  let server: TestServer & { dataDir: string };
  let owner: TestUser;
  let channel: TelegramChannel;
  let conversationId: string;
  let chatId: number;

  before(async () => {
    ({ fakes, server, owner, channel } = await startTelegramSuite());
    const from = telegramUser({ first_name: "Upload", last_name: "Target" });
    chatId = from.id;
    await postTelegram(server, channel.id, channel.secret, privateMessage(from, { text: "hi" }));
    conversationId = await eventually(async () => {
      const res = await fetch(`${server.baseUrl}/api/conversations/`, {
        headers: { authorization: `Bearer ${owner.access}` },
      });
      const page = (await res.json()) as { conversations: Array<{ id: string; title: string }> };
      return page.conversations.find((c) => c.title === "telegram - Upload Target")?.id;
    });
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  it("stores the upload, answers 201 pending, pushes it, and sends the bytes with sendPhoto", async () => {
    const chat = await WsClient.connect(
      `${server.wsUrl}/ws/chat/${conversationId}/?token=${owner.access}`,
    );
    await chat.next("recent_messages");
    const res = await upload(
      server,
      owner,
      conversationId,
      { bytes: SAMPLES.png, name: "receipt.png", type: "text/html" },
      { content: "  Here is your receipt ", client_id: "up-1" },
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const message = res.body;
    const attachment = message.attachments[0];
    assert.ok(attachment);
    assert.deepEqual(
      { ...message, id: "", created_at: "", customer: null, attachments: [] },
      {
        id: "",
        conversation_id: conversationId,
        seq: 2,
        content: "Here is your receipt",
        type: "support",
        customer: null,
        sender: { id: owner.id, username: owner.username },
        is_ai_response: false,
        is_answered: true,
        delivery_status: "pending",
        client_id: "up-1",
        attachments: [],
        created_at: "",
      },
    );
    // The sniffed type, never the uploader's "text/html".
    assert.deepEqual(attachment, {
      id: attachment.id,
      kind: "photo",
      mime_type: "image/png",
      file_name: "receipt.png",
      size: SAMPLES.png.length,
      width: null,
      height: null,
      duration: null,
      url: attachment.url,
      latitude: null,
      longitude: null,
      title: null,
      address: null,
      phone_number: null,
      first_name: null,
      last_name: null,
    });
    const pushed = await chat.next("chat_message");
    assert.equal((pushed.message as MessageView).attachments[0]?.id, attachment.id);
    const [call] = await fakes.telegram.waitForCalls("sendPhoto", 1);
    assert.equal(call?.body.chat_id, String(chatId));
    assert.equal(call?.body.caption, "Here is your receipt");
    assert.ok(call?.upload?.bytes.equals(SAMPLES.png));
    assert.equal(call?.upload?.fileName, "receipt.png");
    // First the customer's message turns answered, then ours is sent.
    const updates = await chat.collect("message_updated", 2);
    assert.deepEqual(
      updates.map((f) => {
        const m = f.message as MessageView;
        return [m.id === message.id, m.delivery_status, m.attachments.length];
      }),
      [
        [false, "received", 0],
        [true, "sent", 1],
      ],
    );
    // The agent's inbox shows it from the signed link.
    const served = await fetchBytes(server, attachment.url ?? "");
    assert.ok(served.bytes.equals(SAMPLES.png));

    // A retry with the same client_id stores and sends nothing new.
    const again = await upload(
      server,
      owner,
      conversationId,
      { bytes: SAMPLES.png, name: "receipt.png" },
      { content: "Here is your receipt", client_id: "up-1" },
    );
    assert.equal(again.status, 200);
    assert.equal(again.body.id, message.id);
    assert.deepEqual(
      again.body.attachments.map((a) => a.id),
      [attachment.id],
    );
    assert.deepEqual(filesIn(server.dataDir).sort(), [attachment.id]);
    await chat.close();
  });

  it("sends each kind by its sniffed bytes, with no caption when the agent wrote none", async () => {
    const cases: Array<[Buffer, string, string, string, string]> = [
      [SAMPLES.mp4, "clip.bin", "video", "sendVideo", "[video]"],
      [SAMPLES.mp3, "song.mp3", "audio", "sendAudio", "[audio]"],
      [SAMPLES.opus, "note.ogg", "voice", "sendVoice", "[voice message]"],
      [SAMPLES.pdf, "terms.pdf", "document", "sendDocument", "[document]"],
      [SAMPLES.html, "picture.png", "document", "sendDocument", "[document]"],
    ];
    for (const [bytes, name, kind, method, content] of cases) {
      const before = fakes.telegram.callsTo(method).length;
      const res = await upload(server, owner, conversationId, { bytes, name });
      assert.equal(res.status, 201, name);
      assert.equal(res.body.content, content, name);
      assert.equal(res.body.attachments[0]?.kind, kind, name);
      const calls = await fakes.telegram.waitForCalls(method, before + 1);
      const call = calls.at(-1);
      assert.ok(call?.upload?.bytes.equals(bytes), name);
      assert.equal(call?.upload?.fileName, name);
      assert.equal("caption" in (call?.body ?? {}), false, name);
    }
  });

  it("refuses an empty file, a missing file and another user's conversation, keeping nothing", async () => {
    const stranger = await registerUser(server);
    const before = filesIn(server.dataDir).length;
    const empty = await upload(server, owner, conversationId, {
      bytes: Buffer.alloc(0),
      name: "e",
    });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.code, "invalid");
    const none = await upload(server, owner, conversationId, undefined, { content: "no file" });
    assert.equal(none.status, 400);
    const foreign = await upload(server, stranger, conversationId, {
      bytes: SAMPLES.png,
      name: "x.png",
    });
    assert.equal(foreign.status, 404);
    assert.equal(filesIn(server.dataDir).length, before);
  });
});

describe("outbound media: size limit", () => {
  let server: TestServer & { dataDir: string };

  before(async () => {
    server = await startServer({ env: { MAX_UPLOAD_BYTES: "1000" } });
  });
  after(() => server.close());

  it("answers 413 too_large over MAX_UPLOAD_BYTES and stores nothing", async () => {
    const owner = await registerUser(server);
    const { conversation } = await ingest(server, owner.id, "hello");
    const over = await upload(server, owner, conversation.id, {
      bytes: Buffer.alloc(1001, 0x41),
      name: "big.txt",
    });
    assert.equal(over.status, 413);
    assert.equal(over.body.code, "too_large");
    assert.equal(typeof over.body.error, "string");
    const exact = await upload(server, owner, conversation.id, {
      bytes: Buffer.alloc(1000, 0x41),
      name: "fits.txt",
    });
    assert.equal(exact.status, 201);
    const page = await fetch(`${server.baseUrl}/api/conversations/${conversation.id}/messages/`, {
      headers: { authorization: `Bearer ${owner.access}` },
    });
    const messages = ((await page.json()) as { messages: MessageView[] }).messages;
    assert.deepEqual(
      messages.map((m) => m.content),
      ["hello", "[document]"],
    );
    assert.deepEqual(filesIn(server.dataDir), [exact.body.attachments[0]?.id]);
  });
});

describe("outbound media: instagram", () => {
  let fakes: Platforms;
  let server: TestServer;
  let owner: TestUser;
  let account: { id: string; accountId: string };
  let conversationId: string;
  const igsid = "7200000000000001";

  before(async () => {
    fakes = await startFakes();
    server = await startPlatformServer(fakes);
    owner = await registerUser(server);
    account = await connectInstagram(server, owner);
    const list = await openList(server, owner);
    await postInstagram(server, instagramBody(account.accountId, [{ sender: igsid, text: "hi" }]));
    conversationId = String((await list.next("new_customer_message")).conversation_id);
    await list.close();
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  it("sends the signed link, then the caption; a failed caption never resends the file", async () => {
    // The file goes through; the caption fails once, then passes.
    fakes.instagram.script("send", { status: 200, body: { message_id: "m_file" } });
    fakes.instagram.script("send", graphError(500, { message: "temporary", code: 2 }));
    const res = await upload(
      server,
      owner,
      conversationId,
      { bytes: SAMPLES.jpeg, name: "shoe.jpg" },
      { content: "Your size 42" },
    );
    assert.equal(res.status, 201);
    const attachment = res.body.attachments[0];
    assert.ok(attachment);
    const sends = await fakes.instagram.waitForCalls("send", 3);
    await eventually(async () => {
      const page = await fetch(`${server.baseUrl}/api/conversations/${conversationId}/messages/`, {
        headers: { authorization: `Bearer ${owner.access}` },
      });
      const messages = ((await page.json()) as { messages: MessageView[] }).messages;
      return messages.at(-1)?.delivery_status === "sent" ? true : undefined;
    });
    const [file, failedCaption, caption] = sends;
    const sent = (file?.body?.message ?? {}) as {
      attachment?: { type: string; payload: { url: string } };
    };
    assert.equal(file?.recipientId, igsid);
    assert.equal(sent.attachment?.type, "image");
    const url = sent.attachment?.payload.url ?? "";
    assert.ok(url.startsWith(`${PUBLIC_URL}/api/attachments/${attachment.id}/?exp=`), url);
    assert.deepEqual(failedCaption?.body?.message, { text: "Your size 42" });
    assert.deepEqual(caption?.body?.message, { text: "Your size 42" });
    assert.equal(fakes.instagram.callsOf("send").length, 3);
    // Instagram can fetch the link without any header.
    const served = await fetchBytes(server, url.slice(PUBLIC_URL.length));
    assert.equal(served.status, 200);
    assert.ok(served.bytes.equals(SAMPLES.jpeg));
  });
});

describe("outbound media: a restart between upload and delivery", () => {
  let fakes: Platforms;
  let dataDir: string;

  before(async () => {
    fakes = await startFakes();
    dataDir = mkdtempSync(join(tmpdir(), "fiko-restart-"));
  });
  after(async () => {
    await fakes.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("delivers the stored upload after the restart", async () => {
    // First life: no delivery worker, so the upload stays pending in the outbox.
    const first = await startServer({ dataDir, platforms: false });
    const owner = await registerUser(first);
    const token = fakes.telegram.addBot("6200001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    const channel = await first.server.store.channels.create({
      ownerId: owner.id,
      platform: "telegram",
      name: "@restart_bot",
      externalId: "6200001",
      credentials: { botToken: token, secretToken: "s" },
      mode: "webhook",
    });
    const { conversation } = await ingest(
      first,
      owner.id,
      "send me the form",
      { externalId: "4242" },
      {
        channelId: channel.id,
      },
    );
    const res = await upload(first, owner, conversation.id, {
      bytes: SAMPLES.pdf,
      name: "form.pdf",
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.delivery_status, "pending");
    await first.close();
    assert.equal(fakes.telegram.callsTo("sendDocument").length, 0);

    // Second life: the worker finds the job and the bytes.
    const second = await startPlatformServer(fakes, { dataDir });
    try {
      const [call] = await fakes.telegram.waitForCalls("sendDocument", 1);
      assert.equal(call?.body.chat_id, "4242");
      assert.ok(call?.upload?.bytes.equals(SAMPLES.pdf));
      assert.equal(call?.upload?.fileName, "form.pdf");
      const message = await eventually(async () => {
        const found = await second.server.store.messages.findById(res.body.id);
        return found?.deliveryStatus === "sent" ? found : undefined;
      });
      assert.equal(message.attachments[0]?.id, res.body.attachments[0]?.id);
    } finally {
      await second.close();
    }
  });
});
