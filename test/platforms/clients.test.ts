import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PlatformError } from "../../src/errors.js";
import { InstagramClient } from "../../src/platforms/instagram/instagram-client.js";
import { TelegramClient } from "../../src/platforms/telegram/telegram-client.js";
import {
  FakeInstagram,
  graphError,
  INSTAGRAM_VERSION,
  OUTSIDE_WINDOW,
} from "../helpers/fake-instagram.js";
import { botToken, FakeTelegram, telegramError } from "../helpers/fake-telegram.js";

async function failure(promise: Promise<unknown>): Promise<PlatformError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PlatformError, String(err));
    return err;
  }
  assert.fail("expected a PlatformError");
}

const summary = (e: PlatformError) => [e.message, e.retryable, e.retryAfterSeconds];

describe("telegram client", () => {
  let fake: FakeTelegram;
  let client: TelegramClient;
  let token: string;

  before(async () => {
    fake = await FakeTelegram.start();
    token = fake.addBot(botToken());
    client = new TelegramClient(token, { apiRoot: fake.apiRoot, requestTimeoutSeconds: 1 });
  });
  after(() => fake.close());

  it("sends {chat_id, text} to sendMessage", async () => {
    await client.sendMessage("424242", "Your order shipped");
    const call = fake.callsTo("sendMessage").at(-1);
    assert.deepEqual(call?.body, { chat_id: "424242", text: "Your order shipped" });
    assert.equal(call?.token, token);
  });

  it("classifies Telegram's refusals", async () => {
    const cases: Array<[ReturnType<typeof telegramError>, unknown[]]> = [
      [
        telegramError(403, "Forbidden: bot was blocked by the user"),
        ["The customer blocked the bot", false, undefined],
      ],
      [
        telegramError(403, "Forbidden: user is deactivated"),
        ["The customer's Telegram account was deleted", false, undefined],
      ],
      [
        telegramError(400, "Bad Request: chat not found"),
        ["The Telegram chat was not found", false, undefined],
      ],
      [
        telegramError(400, "Bad Request: message is too long"),
        ["Telegram refused it: Bad Request: message is too long", false, undefined],
      ],
      [
        telegramError(429, "Too Many Requests: retry after 3", { retry_after: 3 }),
        ["Telegram rate limit reached", true, 3],
      ],
      [telegramError(502, "Bad Gateway"), ["Telegram server error (HTTP 502)", true, undefined]],
      [
        telegramError(401, "Unauthorized"),
        ["The bot token is invalid or was revoked", false, undefined],
      ],
      // A proxy's HTML error page is not JSON: treated as a network failure, retried.
      [{ status: 503, body: "<html>down</html>" }, ["Could not reach Telegram", true, undefined]],
    ];
    for (const [reply, expected] of cases) {
      fake.script("sendMessage", reply);
      assert.deepEqual(summary(await failure(client.sendMessage("1", "x"))), expected);
    }
  });

  it("reports timeouts and unreachable servers as retryable, without the token", async () => {
    fake.script("sendMessage", { status: 200, body: { ok: true, result: {} }, delayMs: 1500 });
    const slow = await failure(client.sendMessage("1", "x"));
    assert.deepEqual(summary(slow), ["Telegram did not answer in time", true, undefined]);

    const down = new TelegramClient(token, { apiRoot: "http://127.0.0.1:9" });
    const err = await failure(down.sendMessage("1", "x"));
    assert.deepEqual(summary(err), ["Could not reach Telegram", true, undefined]);
    const secretPart = token.split(":")[1] ?? "?";
    assert.ok(!`${err.message} ${err.stack} ${String(err.cause)}`.includes(secretPart));
  });

  it("finds a profile photo and downloads it without exposing the file URL", async () => {
    fake.setProfilePhoto(99, "AgACAgIAAxUAAWf-photo");
    assert.equal(await client.profilePhotoFileId(99), "AgACAgIAAxUAAWf-photo_s");
    assert.equal(await client.profilePhotoFileId(100), undefined);
    const file = await client.downloadFile("AgACAgIAAxUAAWf-photo_s");
    assert.equal(file.contentType, "image/jpeg");
    assert.equal(fake.fileDownloads.at(-1), "photos/AgACAgIAAxUAAWf-photo_s.jpg");
  });
});

describe("instagram client", () => {
  let fake: FakeInstagram;
  let client: InstagramClient;

  before(async () => {
    fake = await FakeInstagram.start();
    client = new InstagramClient({ apiRoot: fake.apiRoot, apiVersion: INSTAGRAM_VERSION });
  });
  after(() => fake.close());

  it("sends with a bearer token and {recipient, message}", async () => {
    await client.sendMessage("17841400000000001", "IGAAtoken123", "6543210987654321", "Hi!");
    const call = fake.callsOf("send").at(-1);
    assert.equal(call?.path, `/${INSTAGRAM_VERSION}/17841400000000001/messages`);
    assert.equal(call?.authorization, "Bearer IGAAtoken123");
    assert.deepEqual(call?.query, {});
    assert.deepEqual(call?.body, {
      recipient: { id: "6543210987654321" },
      message: { text: "Hi!" },
    });
  });

  it("classifies Graph API refusals", async () => {
    const cases: Array<[ReturnType<typeof graphError>, unknown[]]> = [
      [OUTSIDE_WINDOW, ["Outside Instagram's 24-hour reply window", false, undefined]],
      [
        graphError(400, {
          message: "(#10) This message is sent outside of allowed window.",
          code: 10,
        }),
        ["Outside Instagram's 24-hour reply window", false, undefined],
      ],
      [
        graphError(429, { message: "Too many calls", code: 4 }, { "retry-after": "2" }),
        ["Instagram rate limit reached", true, 2],
      ],
      [
        graphError(400, {
          message: "(#613) Calls to this api have exceeded the rate limit.",
          code: 613,
        }),
        ["Instagram rate limit reached", true, undefined],
      ],
      [
        graphError(500, { message: "An unexpected error has occurred.", code: 2 }),
        ["Instagram server error (HTTP 500)", true, undefined],
      ],
      [
        graphError(400, { message: "Error validating access token", code: 190 }),
        ["The Instagram access token is invalid or expired", false, undefined],
      ],
      [
        graphError(400, {
          message: "This person isn't available right now.",
          code: 551,
          error_subcode: 1545041,
        }),
        ["The customer is not available on Instagram", false, undefined],
      ],
      [
        graphError(400, { message: "(#100) Param recipient[id] must be a valid ID", code: 100 }),
        ["Instagram refused it: (#100) Param recipient[id] must be a valid ID", false, undefined],
      ],
      [
        { status: 502, body: "<html>bad gateway</html>" },
        ["Instagram server error (HTTP 502)", true, undefined],
      ],
    ];
    for (const [reply, expected] of cases) {
      fake.script("send", reply);
      assert.deepEqual(summary(await failure(client.sendMessage("1", "t", "2", "x"))), expected);
    }
  });

  it("reports an unreachable server as retryable", async () => {
    const down = new InstagramClient({ apiRoot: "http://127.0.0.1:9", apiVersion: "v21.0" });
    const err = await failure(down.sendMessage("1", "IGAAsecret", "2", "x"));
    assert.deepEqual(summary(err), ["Could not reach Instagram", true, undefined]);
    assert.ok(!String(err.cause).includes("IGAAsecret"));
  });

  it("reads a profile with the fields we ask for", async () => {
    fake.profiles.set("555", { name: "Lu", username: "lu", profile_pic: "https://cdn/p.jpg" });
    assert.deepEqual(await client.getProfile("555", "IGAAtoken123"), {
      name: "Lu",
      username: "lu",
      profilePic: "https://cdn/p.jpg",
    });
    assert.deepEqual(fake.callsOf("profile").at(-1)?.query, {
      fields: "name,username,profile_pic",
    });
  });
});
