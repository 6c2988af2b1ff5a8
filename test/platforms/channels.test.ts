import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { botToken, telegramError } from "../helpers/fake-telegram.js";
import { api, registerUser, type TestServer, type TestUser } from "../helpers/server.js";
import {
  connectInstagram,
  connectTelegram,
  type Platforms,
  PUBLIC_URL,
  postTelegram,
  privateMessage,
  startFakes,
  startPlatformServer,
  telegramUser,
} from "./support.js";

describe("channels API", () => {
  let fakes: Platforms;
  let server: TestServer;
  let owner: TestUser;
  let other: TestUser;

  before(async () => {
    fakes = await startFakes();
    server = await startPlatformServer(fakes);
    owner = await registerUser(server);
    other = await registerUser(server);
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  it("connects a bot: getMe, then setWebhook with our URL and a random secret", async () => {
    const token = fakes.telegram.addBot(botToken(5550001), { username: "acme_support_bot" });
    const res = await api(server, "POST", "/api/channels/", {
      token: owner.access,
      body: { platform: "telegram", bot_token: token },
    });
    assert.equal(res.status, 201);
    const id = String(res.body.id);
    assert.match(id, /^[A-Za-z0-9_-]{1,64}$/);
    assert.deepEqual(res.body, { id, platform: "telegram", name: "@acme_support_bot" });
    assert.ok(!JSON.stringify(res.body).includes(token.split(":")[1] ?? "?"));

    const calls = fakes.telegram.calls.filter((c) => c.token === token);
    assert.deepEqual(
      calls.map((c) => c.method),
      ["getMe", "setWebhook"],
    );
    const body = calls[1]?.body ?? {};
    assert.equal(body.url, `${PUBLIC_URL}/api/webhooks/telegram/${id}/`);
    assert.deepEqual(body.allowed_updates, ["message", "edited_message"]);
    const secret = String(body.secret_token);
    assert.match(secret, /^[A-Za-z0-9_-]{32,256}$/);

    // The secret given to Telegram is the one the webhook accepts.
    const update = privateMessage(telegramUser(), { text: "hello" });
    assert.equal((await postTelegram(server, id, secret, update)).status, 200);

    // Each channel gets its own secret.
    const second = await connectTelegram(server, fakes, owner);
    assert.notEqual(second.secret, secret);
  });

  it("answers 400 to a token Telegram refuses and stores nothing", async () => {
    const unknown = botToken(5550002); // never added to the fake: getMe answers 401
    const before = fakes.telegram.calls.length;
    const res = await api(server, "POST", "/api/channels/", {
      token: owner.access,
      body: { platform: "telegram", bot_token: unknown },
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: "Telegram did not accept the bot token",
      code: "invalid_bot_token",
    });
    assert.deepEqual(
      fakes.telegram.calls.slice(before).map((c) => c.method),
      ["getMe"],
    );
    const list = await api<unknown[]>(server, "GET", "/api/channels/", { token: other.access });
    assert.deepEqual(list.body, []);
  });

  it("answers 400 to invalid bodies without echoing the token", async () => {
    const cases: unknown[] = [
      {},
      { platform: "whatsapp", bot_token: "1:x" },
      { platform: "telegram" },
      { platform: "telegram", bot_token: "not a token/../../x" },
      { platform: "telegram", bot_token: 12345 },
      { platform: "instagram", account_id: "abc", access_token: "IGAAvalidlooking123" },
      { platform: "instagram", account_id: "17841400000000001" },
    ];
    for (const body of cases) {
      const res = await api(server, "POST", "/api/channels/", { token: owner.access, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, "invalid", JSON.stringify(res.body));
      assert.equal(typeof res.body.error, "string");
      assert.ok(!String(res.body.error).includes("not a token/"));
    }
    const noAuth = await api(server, "POST", "/api/channels/", {
      body: { platform: "telegram", bot_token: botToken() },
    });
    assert.equal(noAuth.status, 401);
  });

  it("answers 409 when the bot is already connected, without touching its webhook", async () => {
    const token = fakes.telegram.addBot(botToken(5550003));
    const first = await api(server, "POST", "/api/channels/", {
      token: owner.access,
      body: { platform: "telegram", bot_token: token },
    });
    assert.equal(first.status, 201);
    for (const user of [owner, other]) {
      const again = await api(server, "POST", "/api/channels/", {
        token: user.access,
        body: { platform: "telegram", bot_token: token },
      });
      assert.equal(again.status, 409);
      assert.equal(again.body.code, "conflict");
    }
    const webhooks = fakes.telegram.callsTo("setWebhook").filter((c) => c.token === token);
    assert.equal(webhooks.length, 1);
  });

  it("answers 502 and keeps nothing when Telegram refuses the webhook", async () => {
    const token = fakes.telegram.addBot(botToken(5550004));
    fakes.telegram.script(
      "setWebhook",
      telegramError(400, "Bad Request: bad webhook: Failed to resolve host"),
    );
    const res = await api(server, "POST", "/api/channels/", {
      token: other.access,
      body: { platform: "telegram", bot_token: token },
    });
    assert.equal(res.status, 502);
    assert.equal(res.body.code, "platform_error");
    assert.match(String(res.body.error), /bad webhook/);
    const list = await api<unknown[]>(server, "GET", "/api/channels/", { token: other.access });
    assert.deepEqual(list.body, []);
  });

  it("connects an Instagram account and answers 409 for the same account again", async () => {
    const user = await registerUser(server);
    const accountId = "17841400000000777";
    const res = await api(server, "POST", "/api/channels/", {
      token: user.access,
      body: {
        platform: "instagram",
        account_id: accountId,
        access_token: "IGAAsecretaccesstoken123",
        name: "Acme Shop",
      },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { id: res.body.id, platform: "instagram", name: "Acme Shop" });
    const again = await api(server, "POST", "/api/channels/", {
      token: user.access,
      body: { platform: "instagram", account_id: accountId, access_token: "IGAAanother12345" },
    });
    assert.equal(again.status, 409);
  });

  it("lists only the user's channels, with no credentials", async () => {
    const user = await registerUser(server);
    const tg = await connectTelegram(server, fakes, user);
    const ig = await connectInstagram(server, user);
    for (const path of ["/api/channels/", "/api/channels"]) {
      const res = await api<Array<Record<string, unknown>>>(server, "GET", path, {
        token: user.access,
      });
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.map((c) => [c.id, c.platform, c.mode]),
        [
          [tg.id, "telegram", "webhook"],
          [ig.id, "instagram", "webhook"],
        ],
      );
      assert.deepEqual(Object.keys(res.body[0] ?? {}).sort(), [
        "created_at",
        "id",
        "mode",
        "name",
        "platform",
      ]);
      const text = JSON.stringify(res.body);
      for (const secret of [tg.token, tg.secret ?? "?", ig.accessToken]) {
        assert.ok(!text.includes(secret));
      }
    }
  });

  it("removes a channel: deleteWebhook, then its webhook answers 401; others get 404", async () => {
    const user = await registerUser(server);
    const tg = await connectTelegram(server, fakes, user);
    const foreign = await api(server, "DELETE", `/api/channels/${tg.id}/`, { token: other.access });
    assert.equal(foreign.status, 404);
    assert.equal(
      fakes.telegram.callsTo("deleteWebhook").filter((c) => c.token === tg.token).length,
      0,
    );

    const res = await api(server, "DELETE", `/api/channels/${tg.id}`, { token: user.access });
    assert.equal(res.status, 204);
    assert.deepEqual(
      fakes.telegram.calls.filter((c) => c.token === tg.token).map((c) => c.method),
      ["getMe", "setWebhook", "deleteWebhook"],
    );
    const update = privateMessage(telegramUser(), { text: "still there?" });
    assert.equal((await postTelegram(server, tg.id, tg.secret, update)).status, 401);
    const gone = await api(server, "DELETE", `/api/channels/${tg.id}/`, { token: user.access });
    assert.equal(gone.status, 404);
    const list = await api<unknown[]>(server, "GET", "/api/channels/", { token: user.access });
    assert.deepEqual(list.body, []);
  });
});
