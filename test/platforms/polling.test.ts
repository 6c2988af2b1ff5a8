import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { api, registerUser, type TestUser } from "../helpers/server.js";
import {
  connectTelegram,
  conversations,
  eventually,
  messagesOf,
  openList,
  type Platforms,
  privateMessage,
  startFakes,
  startPlatformServer,
  telegramUser,
} from "./support.js";

// Without PUBLIC_URL a bot's updates come by getUpdates long polling.

describe("telegram long polling", () => {
  let fakes: Platforms;

  before(async () => {
    fakes = await startFakes();
  });
  after(() => fakes.close());

  const pollsOf = (token: string) =>
    fakes.telegram.callsTo("getUpdates").filter((c) => c.token === token);

  it("ingests polled updates, stores the offset, and resumes from it after a restart", async () => {
    const first = await startPlatformServer(fakes, { polling: true });
    const owner: TestUser = await registerUser(first);
    const channel = await connectTelegram(first, fakes, owner);
    assert.equal(channel.secret, undefined);
    const listed = await api<Array<{ mode: string }>>(first, "GET", "/api/channels/", {
      token: owner.access,
    });
    assert.deepEqual(
      listed.body.map((c) => c.mode),
      ["polling"],
    );

    await fakes.telegram.waitForCalls("getUpdates", 1);
    assert.deepEqual(
      fakes.telegram.calls.filter((c) => c.token === channel.token).map((c) => c.method),
      ["getMe", "deleteWebhook", "getUpdates"],
    );
    assert.deepEqual(pollsOf(channel.token)[0]?.body, {
      offset: 0,
      timeout: 30,
      allowed_updates: ["message", "edited_message"],
    });

    const list = await openList(first, owner);
    const from = telegramUser({ first_name: "Polly", last_name: "Ng" });
    const update = privateMessage(from, { text: "Hello from polling" }, { updateId: 500 });
    fakes.telegram.pushUpdate(channel.token, update);
    const news = await list.next("new_customer_message");
    assert.equal((news.message as { content: string }).content, "Hello from polling");
    await list.close();

    // The next poll confirms the update; the offset is stored for the next process.
    await eventually(() =>
      pollsOf(channel.token).some((c) => c.body.offset === 501) ? true : undefined,
    );
    await eventually(async () => {
      const stored = await first.server.store.channels.findById(channel.id);
      return stored?.pollOffset === 501 ? true : undefined;
    });
    await first.close({ keepData: true });

    const pollsBefore = pollsOf(channel.token).length;
    const second = await startPlatformServer(fakes, { polling: true, dataDir: first.dataDir });
    try {
      await eventually(() => (pollsOf(channel.token).length > pollsBefore ? true : undefined));
      assert.equal(pollsOf(channel.token)[pollsBefore]?.body.offset, 501);
      // A second copy of the same message (another update id) is still stored once.
      const copy = privateMessage(
        from,
        { text: "Hello from polling" },
        {
          updateId: 501,
          messageId: (update.message as { message_id: number }).message_id,
        },
      );
      const next = privateMessage(from, { text: "and again" }, { updateId: 502 });
      fakes.telegram.pushUpdate(channel.token, copy);
      fakes.telegram.pushUpdate(channel.token, next);
      await eventually(() =>
        pollsOf(channel.token).some((c) => c.body.offset === 503) ? true : undefined,
      );
      const conv = (await conversations(second, owner)).find(
        (c) => c.title === "telegram - Polly Ng",
      );
      assert.ok(conv);
      assert.deepEqual(
        (await messagesOf(second, owner, String(conv.id))).map((m) => m.content),
        ["Hello from polling", "and again"],
      );
    } finally {
      await second.close();
    }
  });

  it("stops polling a removed channel", async () => {
    const server = await startPlatformServer(fakes, { polling: true });
    try {
      const owner = await registerUser(server);
      const channel = await connectTelegram(server, fakes, owner);
      await eventually(() => (pollsOf(channel.token).length > 0 ? true : undefined));
      const res = await api(server, "DELETE", `/api/channels/${channel.id}/`, {
        token: owner.access,
      });
      assert.equal(res.status, 204);
      const polls = pollsOf(channel.token).length;
      fakes.telegram.pushUpdate(channel.token, privateMessage(telegramUser(), { text: "late" }));
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal(pollsOf(channel.token).length, polls);
      assert.deepEqual(await conversations(server, owner), []);
    } finally {
      await server.close();
    }
  });
});
