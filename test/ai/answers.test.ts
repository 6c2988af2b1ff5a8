import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { systemMessage } from "../../src/ai/prompt.js";
import type { ConversationView, MessageView } from "../../src/domain/views.js";
import { waitFor } from "../helpers/cluster.js";
import {
  DEFAULT_ANSWER,
  errorReply,
  handoffReply,
  type ModelReply,
} from "../helpers/fake-model.js";
import { api } from "../helpers/server.js";
import type { Frame, WsClient } from "../helpers/ws-client.js";
import {
  type AiWorld,
  API_KEY,
  activeConversation,
  conversationOf,
  customerWrites,
  describeAiStores,
  MODEL,
  messageOf,
  noPendingAnswer,
  openShop,
  type Shop,
  startAiWorld,
} from "./support.js";

// protocol.md section 11 through the whole server: a customer message in an `active`
// conversation, the quiet window, one request to the (fake) model, the AI message on the sockets
// and at the (fake) Telegram, handoffs, cancellations, failures.

const INSTRUCTIONS = "You work for Velo Bikes. We ship to Spain and France only.";

const typingFrame = (conversationId: string, isTyping: boolean) => ({
  type: "typing_indicator",
  conversation_id: conversationId,
  user_id: null,
  username: "AI",
  is_typing: isTyping,
});

/** The next `chat_message` of type AI on the socket. */
async function nextAiMessage(chat: WsClient): Promise<MessageView> {
  for (;;) {
    const message = messageOf(await chat.next("chat_message", 10_000));
    if (message.type === "AI") return message;
  }
}

/** The next `conversation_updated` whose conversation has `status`. */
async function nextStatus(list: WsClient, status: string): Promise<ConversationView> {
  for (;;) {
    const conversation = conversationOf(await list.next("conversation_updated", 10_000));
    if (conversation.status === status) return conversation;
  }
}

/** The requests whose prompt holds `text`. */
const requestsWith = (world: AiWorld, text: string) =>
  world.model.requests.filter((r) => r.body.messages?.some((m) => m.content === text));

async function history(world: AiWorld, shop: Shop, conversationId: string) {
  const res = await api<{ messages: MessageView[] }>(
    world.server,
    "GET",
    `/api/conversations/${conversationId}/messages/`,
    { token: shop.owner.access },
  );
  return res.body.messages;
}

async function conversation(world: AiWorld, shop: Shop, conversationId: string) {
  const res = await api<ConversationView>(
    world.server,
    "GET",
    `/api/conversations/${conversationId}/`,
    { token: shop.owner.access },
  );
  return res.body;
}

/** Every answer in flight here has been finished (stored, discarded or given up). */
const settled = (world: AiWorld) =>
  waitFor(() => (world.server.server.answers?.busy ?? 0) === 0, "answers settled");

function gate(): { release: () => void; reply: (text: string) => ModelReply } {
  let release = () => {};
  const until = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { release, reply: (text) => ({ text, until }) };
}

describeAiStores("automatic answers", (kind) => {
  let world: AiWorld;
  let shop: Shop;
  before(async () => {
    world = await startAiWorld(kind);
    shop = await openShop(world, { enabled: true, instructions: INSTRUCTIONS });
  });
  after(async () => {
    await world.close();
  });

  it("asks the model once and delivers its answer like a reply", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    const asked = world.model.requests.length;
    await customerWrites(world, shop, customerId, "Do you ship to Spain?");

    assert.equal(messageOf(await chat.next("chat_message")).content, "Do you ship to Spain?");
    assert.deepEqual(await chat.next("typing_indicator"), typingFrame(conversationId, true));
    assert.deepEqual(
      await chat.next("typing_indicator", 10_000),
      typingFrame(conversationId, false),
    );
    const answer = await nextAiMessage(chat);
    assert.equal(answer.content, DEFAULT_ANSWER);
    assert.equal(answer.type, "AI");
    assert.equal(answer.is_ai_response, true);
    assert.equal(answer.sender, null);
    assert.equal(answer.is_answered, true);
    assert.equal(answer.delivery_status, "pending");
    assert.equal(answer.seq, 3);

    // The exact request.
    assert.equal(world.model.requests.length, asked + 1);
    const request = world.model.requests[asked];
    assert.ok(request);
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/v1/chat/completions");
    assert.equal(request.headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(request.body.model, MODEL);
    assert.deepEqual(request.body.messages, [
      { role: "system", content: systemMessage(INSTRUCTIONS) },
      { role: "user", content: "Hi there" },
      { role: "user", content: "Do you ship to Spain?" },
    ]);
    assert.ok(systemMessage(INSTRUCTIONS).endsWith(INSTRUCTIONS));
    const tools = request.body.tools as Array<{
      type: string;
      function: { name: string; parameters: Record<string, unknown> };
    }>;
    assert.equal(tools.length, 1);
    assert.equal(tools[0]?.type, "function");
    assert.equal(tools[0]?.function.name, "handoff_to_human");
    assert.deepEqual(tools[0]?.function.parameters, {
      type: "object",
      properties: {
        reason: { type: "string", description: "Why a person should take over, in one sentence." },
      },
      required: ["reason"],
    });

    // Both customer messages are answered now.
    const updates: Frame[] = [];
    while (updates.length < 3) updates.push(await chat.next("message_updated", 10_000));
    const updated = updates.map(messageOf);
    assert.deepEqual(
      updated.filter((m) => m.type === "customer").map((m) => [m.seq, m.is_answered]),
      [
        [1, true],
        [2, true],
      ],
    );
    // Delivered through the outbox, as plain text, after a typing action.
    const sent = updated.find((m) => m.type === "AI");
    assert.equal(sent?.delivery_status, "sent");
    const typing = await world.telegram.waitForCalls("sendChatAction", 1);
    assert.ok(
      typing.some(
        (c) =>
          c.token === shop.token && c.body.chat_id === customerId && c.body.action === "typing",
      ),
    );
    const messages = (await world.telegram.waitForCalls("sendMessage", 1)).filter(
      (c) => c.token === shop.token && c.body.chat_id === customerId,
    );
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.body.text, DEFAULT_ANSWER);
    assert.equal(messages[0]?.body.parse_mode, undefined);

    const listed = await nextStatus(list, "active");
    assert.equal(listed.id, conversationId);
    assert.ok(await noPendingAnswer(world.server));
    await chat.close();
    await list.close();
  });

  it("sends the history oldest first: customer as user, AI and agents as assistant", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(
      world,
      shop,
      "Hello",
    );
    await customerWrites(world, shop, customerId, "Where is my order 17?");
    await nextAiMessage(chat);
    await customerWrites(world, shop, customerId, "It is late");
    await nextAiMessage(chat);
    // An agent answers: the conversation leaves `active`, then is handed back to the model.
    chat.send({ type: "chat_message", content: "I checked: it ships today.", client_id: "a-1" });
    await nextStatus(list, "support_active");
    await api(world.server, "PATCH", `/api/conversations/${conversationId}/`, {
      token: shop.owner.access,
      body: { status: "active" },
    });
    const asked = world.model.requests.length;
    await customerWrites(world, shop, customerId, "Thanks!");
    await nextAiMessage(chat);
    assert.equal(world.model.requests.length, asked + 1);
    assert.deepEqual(world.model.requests[asked]?.body.messages, [
      { role: "system", content: systemMessage(INSTRUCTIONS) },
      { role: "user", content: "Hello" },
      { role: "user", content: "Where is my order 17?" },
      { role: "assistant", content: DEFAULT_ANSWER },
      { role: "user", content: "It is late" },
      { role: "assistant", content: DEFAULT_ANSWER },
      { role: "assistant", content: "I checked: it ships today." },
      { role: "user", content: "Thanks!" },
    ]);
    await chat.close();
    await list.close();
  });

  it("merges messages written inside the quiet window into one answer", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    await customerWrites(world, shop, customerId, "One more question");
    await customerWrites(world, shop, customerId, "about returns");
    const answer = await nextAiMessage(chat);
    assert.equal(answer.seq, 4);
    const asked = requestsWith(world, "about returns");
    assert.equal(asked.length, 1);
    assert.deepEqual(asked[0]?.body.messages?.slice(-2), [
      { role: "user", content: "One more question" },
      { role: "user", content: "about returns" },
    ]);
    assert.ok(await noPendingAnswer(world.server));
    const stored = await history(world, shop, conversationId);
    assert.deepEqual(
      stored.map((m) => m.type),
      ["customer", "customer", "customer", "AI"],
    );
    await chat.close();
    await list.close();
  });

  it("answers again, seeing it, when the customer writes while the model is asked", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    const held = gate();
    world.model.script(held.reply("First answer"));
    const asked = world.model.requests.length;
    await customerWrites(world, shop, customerId, "Is the shop open?");
    await world.model.waitForRequests(asked + 1);
    await customerWrites(world, shop, customerId, "And on Sunday?");
    held.release();
    assert.equal((await nextAiMessage(chat)).content, "First answer");
    assert.equal((await nextAiMessage(chat)).content, DEFAULT_ANSWER);
    assert.equal(world.model.requests.length, asked + 2);
    assert.deepEqual(world.model.requests[asked + 1]?.body.messages?.slice(1), [
      { role: "user", content: "Hi there" },
      { role: "user", content: "Is the shop open?" },
      // In the order stored: the customer wrote before the first answer was stored.
      { role: "user", content: "And on Sunday?" },
      { role: "assistant", content: "First answer" },
    ]);
    await settled(world);
    assert.ok(await noPendingAnswer(world.server));
    const stored = await history(world, shop, conversationId);
    assert.equal(stored.filter((m) => m.type === "AI").length, 2);
    await chat.close();
    await list.close();
  });

  it("hands over to a person after sending the model's text, as plain text", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    world.model.script(
      handoffReply("asks for a refund", "**One moment**: a colleague will take over."),
    );
    await customerWrites(world, shop, customerId, "I want a refund");
    const answer = await nextAiMessage(chat);
    assert.equal(answer.content, "One moment: a colleague will take over.");
    const handed = await nextStatus(list, "support_active");
    assert.equal(handed.id, conversationId);
    assert.equal(handed.last_message?.type, "AI");
    await waitFor(
      () =>
        world.telegram
          .callsTo("sendMessage")
          .some(
            (c) =>
              c.body.chat_id === customerId &&
              c.body.text === "One moment: a colleague will take over.",
          ),
      "the handoff text at Telegram",
    );
    // The model stays quiet from now on.
    const next = await customerWrites(world, shop, customerId, "Hello?");
    assert.equal(next.answerScheduled, false);
    assert.ok(await noPendingAnswer(world.server));
    await chat.close();
    await list.close();
  });

  it("hands over without a message when the model only calls the tool", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    world.model.script(handoffReply("legal question"));
    await customerWrites(world, shop, customerId, "Can I sue you?");
    assert.deepEqual(await chat.next("typing_indicator"), typingFrame(conversationId, true));
    assert.deepEqual(
      await chat.next("typing_indicator", 10_000),
      typingFrame(conversationId, false),
    );
    const handed = await nextStatus(list, "support_active");
    assert.equal(handed.last_message?.content, "Can I sue you?");
    const stored = await history(world, shop, conversationId);
    assert.deepEqual(
      stored.map((m) => [m.type, m.is_answered]),
      [
        ["customer", false],
        ["customer", false],
      ],
    );
    await chat.close();
    await list.close();
  });

  it("an agent's reply in the quiet window cancels the answer", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    const text = `Cancel me ${customerId}`;
    const written = await customerWrites(world, shop, customerId, text);
    assert.equal(written.answerScheduled, true);
    const reply = await api(
      world.server,
      "POST",
      `/api/conversations/${conversationId}/messages/`,
      {
        token: shop.owner.access,
        body: { content: "Hi, I am here." },
      },
    );
    assert.equal(reply.status, 201);
    assert.ok(await noPendingAnswer(world.server));
    assert.equal((await conversation(world, shop, conversationId)).status, "support_active");
    assert.equal(requestsWith(world, text).length, 0);
    await chat.close();
    await list.close();
  });

  it("an agent taking over while the model is asked discards its answer", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    const held = gate();
    world.model.script(held.reply("Too late"));
    const asked = world.model.requests.length;
    await customerWrites(world, shop, customerId, "Hello?");
    await world.model.waitForRequests(asked + 1);
    chat.send({ type: "chat_message", content: "A person here.", client_id: "take-over" });
    await nextStatus(list, "support_active");
    held.release();
    assert.deepEqual(
      await chat.next("typing_indicator", 10_000),
      typingFrame(conversationId, true),
    );
    assert.deepEqual(
      await chat.next("typing_indicator", 10_000),
      typingFrame(conversationId, false),
    );
    await settled(world);
    const stored = await history(world, shop, conversationId);
    assert.deepEqual(
      stored.map((m) => m.type),
      ["customer", "customer", "support"],
    );
    assert.ok(!world.telegram.callsTo("sendMessage").some((c) => c.body.text === "Too late"));
    await chat.close();
    await list.close();
  });

  it("a status change away from active cancels the answer", async () => {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    const text = `Close me ${customerId}`;
    await customerWrites(world, shop, customerId, text);
    const patched = await api(world.server, "PATCH", `/api/conversations/${conversationId}/`, {
      token: shop.owner.access,
      body: { status: "closed" },
    });
    assert.equal(patched.status, 200);
    assert.ok(await noPendingAnswer(world.server));
    assert.equal(requestsWith(world, text).length, 0);
    await chat.close();
    await list.close();
  });
});

describe("automatic answers that fail", () => {
  let world: AiWorld;
  let shop: Shop;
  before(async () => {
    world = await startAiWorld("sqlite", { AI_TIMEOUT_MS: "600" });
    shop = await openShop(world, { enabled: true });
  });
  after(async () => {
    await world.close();
  });

  async function failingTurn(replies: ModelReply[], text: string) {
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    world.model.script(...replies);
    await customerWrites(world, shop, customerId, text);
    return { conversationId, chat, list };
  }

  it("tries a 5xx at most twice more, then hands over to a person", async () => {
    const text = "Help, error 500 please";
    const { conversationId, chat, list } = await failingTurn(
      [errorReply(500), errorReply(502), errorReply(503)],
      text,
    );
    const handed = await nextStatus(list, "support_active");
    assert.equal(handed.id, conversationId);
    assert.equal(requestsWith(world, text).length, 3);
    assert.deepEqual(await chat.next("typing_indicator"), typingFrame(conversationId, true));
    assert.deepEqual(await chat.next("typing_indicator"), typingFrame(conversationId, false));
    const stored = await history(world, shop, conversationId);
    assert.ok(stored.every((m) => m.type === "customer"));
    await chat.close();
    await list.close();
  });

  it("answers when a retry succeeds (503, then 429)", async () => {
    const text = "Flaky server question";
    const { chat, list } = await failingTurn(
      [errorReply(503), errorReply(429, { "retry-after": "0" }), { text: "Recovered" }],
      text,
    );
    assert.equal((await nextAiMessage(chat)).content, "Recovered");
    assert.equal(requestsWith(world, text).length, 3);
    await chat.close();
    await list.close();
  });

  it("does not retry other errors", async () => {
    const text = "Unauthorized key question";
    const { conversationId, chat, list } = await failingTurn([errorReply(401)], text);
    await nextStatus(list, "support_active");
    assert.equal(requestsWith(world, text).length, 1);
    assert.equal((await conversation(world, shop, conversationId)).status, "support_active");
    await chat.close();
    await list.close();
  });

  it("gives up after three timeouts", async () => {
    const text = "Slow model question";
    const { conversationId, chat, list } = await failingTurn(
      [{ hang: true }, { hang: true }, { hang: true }],
      text,
    );
    const handed = await nextStatus(list, "support_active");
    assert.equal(handed.id, conversationId);
    assert.equal(requestsWith(world, text).length, 3);
    await chat.close();
    await list.close();
  });

  it("an empty answer hands over too", async () => {
    const text = "Empty answer question";
    const { conversationId, chat, list } = await failingTurn([{ text: "  " }], text);
    const handed = await nextStatus(list, "support_active");
    assert.equal(handed.id, conversationId);
    assert.equal(requestsWith(world, text).length, 1);
    await chat.close();
    await list.close();
  });
});

describe("the hourly answer limit", () => {
  let world: AiWorld;
  before(async () => {
    world = await startAiWorld("sqlite", { AI_MAX_ANSWERS_PER_HOUR: "1" });
  });
  after(async () => {
    await world.close();
  });

  it("hands over to a person instead of asking past the limit", async () => {
    const shop = await openShop(world, { enabled: true });
    const { conversationId, customerId, chat, list } = await activeConversation(world, shop);
    await customerWrites(world, shop, customerId, "First question");
    await nextAiMessage(chat);
    const asked = world.model.requests.length;
    await customerWrites(world, shop, customerId, "Second question");
    const handed = await nextStatus(list, "support_active");
    assert.equal(handed.id, conversationId);
    assert.equal(world.model.requests.length, asked);
    await chat.close();
    await list.close();
  });
});
