import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ingest, openChat, registerUser, startServer, type TestServer } from "../helpers/server.js";

// 1,000 messages into one conversation from three writers at once: every socket sees each
// exactly once, in seq order.
describe("burst", () => {
  let server: TestServer;
  before(async () => {
    // The writers send far faster than any agent; the per-socket frame limit would stop them.
    server = await startServer({ env: { WS_RATE_LIMIT: "0" } });
  });
  after(() => server.close());

  it("delivers 1,000 concurrent messages to three sockets in seq order, none missing", async () => {
    const user = await registerUser(server, "burst");
    const first = await ingest(server, user.id, "start", { externalId: "b1" });
    const id = first.conversation.id;
    const sockets = await Promise.all([0, 1, 2].map(() => openChat(server, id, user.access)));
    const [a, b] = sockets;
    if (!a || !b) throw new Error("sockets missing");

    const total = 1000;
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < total; i++) {
      if (i % 3 === 0)
        a.client.send({ type: "chat_message", content: `a${i}`, client_id: `a${i}` });
      else if (i % 3 === 1) b.client.send({ type: "chat_message", content: `b${i}` });
      else
        writes.push(
          ingest(server, user.id, `c${i}`, { externalId: "b1" }, { channelId: first.channelId }),
        );
    }
    await Promise.all(writes);
    for (const { client } of sockets) {
      const frames = await client.collect("chat_message", total, 20_000);
      const seqs = frames.map((f) => (f.message as { seq: number }).seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: total }, (_, i) => i + 2),
      );
    }
    await Promise.all(sockets.map(({ client }) => client.close()));
  });
});
