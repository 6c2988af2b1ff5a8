import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { loadConfig } from "../../src/config.js";
import { createServer, type Server } from "../../src/server.js";
import { botToken } from "../helpers/fake-telegram.js";
import { api, registerUser, TEST_JWT_SECRET } from "../helpers/server.js";
import {
  APP_SECRET,
  connectTelegram,
  eventually,
  type Platforms,
  postInstagram,
  postTelegram,
  privateMessage,
  startFakes,
  telegramUser,
  VERIFY_TOKEN,
} from "./support.js";

// Every log line at trace level, through failures that carry the token in their raw form
// (grammY network errors quote the request URL), must be free of tokens and secrets.

describe("secrets stay out of the logs", () => {
  let fakes: Platforms;
  let server: Server;
  let baseUrl: string;
  let dataDir: string;
  const lines: string[] = [];

  before(async () => {
    fakes = await startFakes();
    dataDir = mkdtempSync(join(tmpdir(), "fiko-logs-"));
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      SQLITE_PATH: join(dataDir, "fiko.sqlite"),
      JWT_SECRET: TEST_JWT_SECRET,
      PUBLIC_URL: "https://chat.example.test",
      TELEGRAM_API_ROOT: fakes.telegram.apiRoot,
      INSTAGRAM_API_ROOT: "http://127.0.0.1:9",
      INSTAGRAM_APP_SECRET: APP_SECRET,
      INSTAGRAM_VERIFY_TOKEN: VERIFY_TOKEN,
      DELIVERY_BASE_DELAY_MS: "5",
      DELIVERY_MAX_ATTEMPTS: "2",
    });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    server = await createServer(config, pino({ level: "trace" }, sink), { platforms: true });
    baseUrl = `http://127.0.0.1:${await server.listen()}`;
  });
  after(async () => {
    await server.stop();
    await fakes.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("logs no token, webhook secret or access token through successes and failures", async () => {
    const target = { baseUrl, wsUrl: baseUrl.replace("http", "ws") };
    const owner = await registerUser(target);
    const testServer = { ...target, config: loadConfig({}), server, close: async () => {} };

    // Webhook mode: connect, receive a message, reply.
    const channel = await connectTelegram(testServer, fakes, owner);
    const from = telegramUser();
    await postTelegram(
      testServer,
      channel.id,
      channel.secret,
      privateMessage(from, { text: "hi" }),
    );
    await postTelegram(testServer, channel.id, "wrong", privateMessage(from, { text: "x" }));

    // A bot whose token Telegram refuses, and a network failure while connecting.
    const refused = botToken();
    await api(target, "POST", "/api/channels/", {
      token: owner.access,
      body: { platform: "telegram", bot_token: refused },
    });

    // A reply whose sends fail at the network level (grammY's error quotes the URL).
    const conversation = (
      await api<{ conversations: Array<{ id: string }> }>(target, "GET", "/api/conversations/", {
        token: owner.access,
      })
    ).body.conversations[0];
    assert.ok(conversation);
    fakes.telegram.script(
      "sendMessage",
      { status: 503, body: "<html>proxy down</html>" },
      { status: 503, body: "<html>proxy down</html>" },
    );
    const reply = await api<{ id: string }>(
      target,
      "POST",
      `/api/conversations/${conversation.id}/messages/`,
      { token: owner.access, body: { content: "are you there?" } },
    );
    await eventually(async () => {
      const m = await server.store.messages.findById(reply.body.id);
      return m?.deliveryStatus === "failed" ? true : undefined;
    });

    // An Instagram channel whose API is unreachable: profile fetch and send both fail.
    const igToken = "IGAAverysecretaccesstoken0123456789";
    const ig = await api<{ id: string }>(target, "POST", "/api/channels/", {
      token: owner.access,
      body: { platform: "instagram", account_id: "17841400000000321", access_token: igToken },
    });
    assert.equal(ig.status, 201);
    const body = {
      object: "instagram",
      entry: [
        {
          id: "17841400000000321",
          time: Date.now(),
          messaging: [
            {
              sender: { id: "99887766" },
              recipient: { id: "17841400000000321" },
              timestamp: Date.now(),
              message: { mid: "mid.log-test", text: "hello" },
            },
          ],
        },
      ],
    };
    assert.equal((await postInstagram(testServer, body)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const text = lines.join("");
    assert.ok(lines.length > 10, "the logger heard the traffic");
    assert.match(text, /send failed/);
    for (const secret of [
      channel.token,
      channel.token.split(":")[1] ?? "?",
      refused.split(":")[1] ?? "?",
      channel.secret ?? "?",
      igToken,
      APP_SECRET,
    ]) {
      assert.ok(!text.includes(secret), `a log line holds ${secret.slice(0, 6)}…`);
    }
  });
});
