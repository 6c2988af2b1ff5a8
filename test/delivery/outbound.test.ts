import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { botToken, telegramError } from "../helpers/fake-telegram.js";
import {
  api,
  ingest,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import {
  connectTelegram,
  type Platforms,
  postTelegram,
  privateMessage,
  startFakes,
  startPlatformServer,
  startTelegramSuite,
  type TelegramChannel,
  telegramUser,
} from "../platforms/support.js";

// Agent replies through the whole server: socket or REST in, the fake platform out, and the
// delivery status back on the socket.

type WireMessage = {
  id: string;
  delivery_status: string;
  delivery_error?: string;
  content: string;
};

describe("outbound delivery through the server", () => {
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

  /** A customer writes in over the webhook; returns the conversation and an open chat socket. */
  async function customerConversation() {
    const from = telegramUser();
    const list = await WsClient.connect(`${server.wsUrl}/ws/conversations/?token=${owner.access}`);
    await list.next("conversations_list");
    await postTelegram(server, channel.id, channel.secret, privateMessage(from, { text: "help!" }));
    const news = await list.next("new_customer_message");
    await list.close();
    const conversationId = String(news.conversation_id);
    const chat = await WsClient.connect(
      `${server.wsUrl}/ws/chat/${conversationId}/?token=${owner.access}`,
    );
    await chat.next("recent_messages");
    return { from, conversationId, chat };
  }

  const updateOf = async (chat: WsClient, id: string) => {
    for (;;) {
      const frame = await chat.next("message_updated", 5000);
      const message = frame.message as WireMessage;
      if (message.id === id) return message;
    }
  };

  const sendsTo = (chatId: number) =>
    fakes.telegram
      .callsTo("sendMessage")
      .filter((c) => c.token === channel.token && c.body.chat_id === String(chatId));

  it("sends a socket reply once and pushes message_updated with delivery_status sent", async () => {
    const { from, chat } = await customerConversation();
    chat.send({ type: "chat_message", content: "We are on it!", client_id: "c-1" });
    const created = await chat.next("chat_message");
    const pending = created.message as WireMessage & { client_id: string };
    assert.equal(pending.delivery_status, "pending");
    assert.equal(pending.client_id, "c-1");

    const sent = await updateOf(chat, pending.id);
    assert.equal(sent.delivery_status, "sent");
    assert.equal(sent.content, "We are on it!");
    assert.equal("delivery_error" in sent, false);
    assert.deepEqual(
      sendsTo(from.id).map((c) => c.body),
      [{ chat_id: String(from.id), text: "We are on it!" }],
    );
    await chat.close();
  });

  it("retries two 500s and ends sent after three attempts, accepted once", async () => {
    const { from, conversationId, chat } = await customerConversation();
    fakes.telegram.script(
      "sendMessage",
      telegramError(500, "Internal Server Error"),
      telegramError(500, "Internal Server Error"),
    );
    const res = await api<WireMessage>(
      server,
      "POST",
      `/api/conversations/${conversationId}/messages/`,
      {
        token: owner.access,
        body: { content: "Retry me" },
      },
    );
    assert.equal(res.status, 201);
    const sent = await updateOf(chat, res.body.id);
    assert.equal(sent.delivery_status, "sent");
    assert.equal(sendsTo(from.id).length, 3);
    // Only the status change is pushed, not the retries.
    const more = (await chat.drain(100)).filter(
      (f) => f.type === "message_updated" && (f.message as WireMessage).id === res.body.id,
    );
    assert.deepEqual(more, []);
    await chat.close();
  });

  it("marks a reply to a customer who blocked the bot failed with the reason", async () => {
    const { from, chat } = await customerConversation();
    fakes.telegram.script(
      "sendMessage",
      telegramError(403, "Forbidden: bot was blocked by the user"),
    );
    chat.send({ type: "chat_message", content: "Hello?" });
    const pending = (await chat.next("chat_message")).message as WireMessage;
    const failed = await updateOf(chat, pending.id);
    assert.equal(failed.delivery_status, "failed");
    assert.equal(failed.delivery_error, "The customer blocked the bot");
    assert.equal(sendsTo(from.id).length, 1);
    await chat.close();
  });
});

describe("delivery across a restart", () => {
  let fakes: Platforms;

  before(async () => {
    fakes = await startFakes();
  });
  after(() => fakes.close());

  it("sends a reply queued while no worker ran, once, after the next start", async () => {
    const first = await startServer({ platforms: false });
    const owner = await registerUser(first);
    const token = fakes.telegram.addBot(botToken());
    const channel = await first.server.store.channels.create({
      ownerId: owner.id,
      platform: "telegram",
      name: "@restart_bot",
      externalId: token.split(":")[0] ?? "",
      credentials: { botToken: token, secretToken: "hook-secret" },
      mode: "webhook",
    });
    const { conversation } = await ingest(
      first,
      owner.id,
      "hi",
      { externalId: "31337" },
      {
        channelId: channel.id,
      },
    );
    const res = await api<WireMessage>(
      first,
      "POST",
      `/api/conversations/${conversation.id}/messages/`,
      {
        token: owner.access,
        body: { content: "Sent after the restart" },
      },
    );
    assert.equal(res.body.delivery_status, "pending");
    await first.close({ keepData: true });
    assert.equal(fakes.telegram.callsTo("sendMessage").length, 0);

    const second = await startPlatformServer(fakes, { dataDir: first.dataDir });
    try {
      await fakes.telegram.waitForCalls("sendMessage", 1);
      const message = await eventuallySent(second, owner, conversation.id, res.body.id);
      assert.equal(message.delivery_status, "sent");
      assert.deepEqual(
        fakes.telegram.callsTo("sendMessage").map((c) => c.body),
        [{ chat_id: "31337", text: "Sent after the restart" }],
      );
    } finally {
      await second.close();
    }
  });

  it("keeps a retry scheduled by a stopped process and ends sent exactly once", async () => {
    const first = await startPlatformServer(fakes, { env: { DELIVERY_BASE_DELAY_MS: "600" } });
    const owner = await registerUser(first);
    const channel = await connectTelegram(first, fakes, owner);
    const from = telegramUser();
    await postTelegram(first, channel.id, channel.secret, privateMessage(from, { text: "hi" }));
    const [conversation] = (
      await api<{ conversations: Array<{ id: string }> }>(first, "GET", "/api/conversations/", {
        token: owner.access,
      })
    ).body.conversations;
    assert.ok(conversation);
    const before = fakes.telegram.callsTo("sendMessage").length;
    fakes.telegram.script("sendMessage", telegramError(500, "Internal Server Error"));
    const res = await api<WireMessage>(
      first,
      "POST",
      `/api/conversations/${conversation.id}/messages/`,
      {
        token: owner.access,
        body: { content: "Survives the restart" },
      },
    );
    await fakes.telegram.waitForCalls("sendMessage", before + 1);
    // Stopped between the failed try and its retry (300 to 600 ms later).
    await first.close({ keepData: true });
    const stoppedAt = Date.now();

    const second = await startPlatformServer(fakes, { dataDir: first.dataDir });
    try {
      const message = await eventuallySent(second, owner, conversation.id, res.body.id);
      const retry = fakes.telegram.callsTo("sendMessage")[before + 1];
      assert.ok(retry && retry.at >= stoppedAt, "the retry was sent by the second process");
      assert.equal(message.delivery_status, "sent");
      const calls = fakes.telegram.callsTo("sendMessage").slice(before);
      assert.deepEqual(
        calls.map((c) => c.body),
        [
          { chat_id: String(from.id), text: "Survives the restart" },
          { chat_id: String(from.id), text: "Survives the restart" },
        ],
      );
    } finally {
      await second.close();
    }
  });
});

async function eventuallySent(
  server: TestServer,
  user: TestUser,
  conversationId: string,
  messageId: string,
): Promise<WireMessage> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await api<{ messages: WireMessage[] }>(
      server,
      "GET",
      `/api/conversations/${conversationId}/messages/`,
      { token: user.access },
    );
    const message = res.body.messages.find((m) => m.id === messageId);
    if (message && message.delivery_status !== "pending") return message;
    if (Date.now() > deadline) throw new Error(`still ${message?.delivery_status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
