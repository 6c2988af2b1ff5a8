import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { TYPING_EXPIRY_MS } from "../../client/index.js";
import {
  chatUrl,
  ingest,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { WsClient } from "../helpers/ws-client.js";
import { closeClients, PASSWORD, sdkClient, waitFor, within } from "./support.js";

afterEach(closeClients);

describe("SDK chat session live state", () => {
  let server: TestServer;
  let user: TestUser;
  before(async () => {
    server = await startServer();
    user = await registerUser(server);
  });
  after(() => server.close());

  it("updates a stored message in place on message_updated", async () => {
    const first = await ingest(server, user.id, "question");
    const client = sdkClient(server);
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    await waitFor(chat, (s) => s.status === "open", "open");
    assert.equal(chat.getSnapshot().messages[0]?.is_answered, false);
    await within(chat.send("answer"), "the reply");
    // The reply answers the question: the server pushes message_updated for seq 1.
    const state = await waitFor(chat, (s) => s.messages[0]?.is_answered === true, "answered");
    assert.deepEqual(
      state.messages.map((m) => [m.seq, m.content, m.is_answered]),
      [
        [1, "question", true],
        [2, "answer", true],
      ],
    );
  });

  it("shows another socket's typing, drops it on false, and lets it expire", async () => {
    const first = await ingest(server, user.id, "hi", { externalId: "5001" });
    const client = sdkClient(server);
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    await waitFor(chat, (s) => s.status === "open", "open");
    const other = await WsClient.connect(chatUrl(server, first.conversation.id, user.access));
    await other.next("recent_messages");
    other.send({ type: "typing", is_typing: true });
    let state = await waitFor(chat, (s) => s.typing.length === 1, "typing");
    assert.deepEqual(state.typing, [{ user_id: user.id, username: user.username }]);
    other.send({ type: "typing", is_typing: false });
    await waitFor(chat, (s) => s.typing.length === 0, "stopped typing");
    other.send({ type: "typing", is_typing: true });
    await waitFor(chat, (s) => s.typing.length === 1, "typing again");
    // No more news from the typist: the indicator goes by itself.
    state = await waitFor(chat, (s) => s.typing.length === 0, "expiry", TYPING_EXPIRY_MS + 5_000);
    assert.deepEqual(state.typing, []);
    other.socket.close();
  });

  it("marks read and reports read_at", async () => {
    const first = await ingest(server, user.id, "unread", { externalId: "5002" });
    const client = sdkClient(server);
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    await waitFor(chat, (s) => s.status === "open", "open");
    chat.markRead();
    const state = await waitFor(chat, (s) => s.readAt !== null, "read");
    const conversation = await client.api.getConversation(first.conversation.id);
    assert.equal(conversation.unread_count, 0);
    assert.match(state.readAt ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
