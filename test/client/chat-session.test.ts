import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ingest,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { PASSWORD, range, sdkClient, waitFor } from "./support.js";

describe("SDK chat session", () => {
  let server: TestServer;
  let user: TestUser;

  before(async () => {
    server = await startServer();
    user = await registerUser(server);
  });
  after(() => server.close());

  it("shows the snapshot, live customer messages and a sent reply, each once and in order", async () => {
    const first = await ingest(server, user.id, "m1");
    const client = sdkClient(server);
    await client.signIn(user.username, PASSWORD);
    const chat = client.chat(first.conversation.id);
    await waitFor(chat, (s) => s.status === "open", "open");
    for (let i = 2; i <= 5; i++)
      await ingest(server, user.id, `m${i}`, {}, { channelId: first.channelId });
    await waitFor(chat, (s) => s.messages.length === 5, "5 messages");
    const reply = await chat.send("hello back");
    assert.equal(reply.seq, 6);
    assert.equal(reply.type, "support");
    const state = await waitFor(chat, (s) => s.messages.length === 6, "the reply");
    assert.deepEqual(
      state.messages.map((m) => m.seq),
      range(1, 6),
    );
    assert.deepEqual(state.pending, []);
    client.close();
  });
});
