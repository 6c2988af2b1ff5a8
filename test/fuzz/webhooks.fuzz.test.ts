import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { hubSignature } from "../helpers/fake-instagram.js";
import type { TestServer, TestUser } from "../helpers/server.js";
import {
  APP_SECRET,
  connectInstagram,
  type Platforms,
  postInstagram,
  postTelegram,
  privateMessage,
  startTelegramSuite,
  type TelegramChannel,
  telegramUser,
} from "../platforms/support.js";
import {
  anyJson,
  anyText,
  assertUnchanged,
  check,
  headerValue,
  runs,
  storedState,
} from "./fuzz-support.js";

// Webhook bodies (protocol.md section 7): garbage under a valid secret or signature is answered
// (200 when it is JSON but no message, 400 when not JSON) and stores nothing; a garbage secret or
// signature is 401 whatever the body.

async function answerOf(res: Response) {
  const text = await res.text();
  return { status: res.status, text };
}

/** A Telegram update whose message part is replaced by anything at all. */
const garbledUpdate = fc.oneof(
  anyJson,
  fc.record({ update_id: anyJson, message: anyJson }),
  fc.record({ update_id: fc.integer(), edited_message: anyJson }),
  fc.record({
    update_id: fc.integer(),
    message: fc.record({ message_id: anyJson, chat: anyJson, from: anyJson, text: anyJson }),
  }),
);

/** An Instagram delivery whose events are anything at all. */
const garbledDelivery = (accountId: string) =>
  fc.oneof(
    anyJson,
    fc.record({ object: fc.constantFrom("instagram", "page", ""), entry: anyJson }),
    fc.record({
      object: fc.constant("instagram"),
      entry: fc.array(fc.record({ id: fc.constant(accountId), messaging: anyJson }), {
        maxLength: 3,
      }),
    }),
    fc.record({
      object: fc.constant("instagram"),
      entry: fc.constant([{ id: accountId, time: 1 }]).map((e) => e),
      extra: anyJson,
    }),
  );

describe("fuzzed webhooks", () => {
  let fakes: Platforms;
  let server: TestServer;
  let owner: TestUser;
  let telegram: TelegramChannel;
  let accountId: string;

  before(async () => {
    ({ fakes, server, owner, channel: telegram } = await startTelegramSuite());
    accountId = (await connectInstagram(server, owner)).accountId;
    // One real conversation, so "nothing changes" covers an existing one too.
    const res = await postTelegram(
      server,
      telegram.id,
      telegram.secret,
      privateMessage(telegramUser()),
    );
    assert.equal(res.status, 200);
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  it("Telegram: garbage bodies under the right secret", async () => {
    const before = await storedState(server, owner.id);
    await check(
      "telegram bodies, valid secret",
      fc.oneof(
        garbledUpdate.map((v) => JSON.stringify(v)),
        anyText,
      ),
      async (body) => {
        const { status, text } = await answerOf(
          await postTelegram(server, telegram.id, telegram.secret, body),
        );
        let isJson = true;
        try {
          JSON.parse(body);
        } catch {
          isJson = false;
        }
        if (isJson) {
          assert.equal(status, 200, `${body.slice(0, 80)} -> ${text}`);
          assert.equal(text, "");
        } else {
          assert.equal(status, 400, body.slice(0, 80));
          assert.equal(JSON.parse(text).code, "invalid_json");
        }
      },
      runs(120),
    );
    await assertUnchanged(server, owner.id, before);
  });

  it("Telegram: garbage secrets", async () => {
    const before = await storedState(server, owner.id);
    await check(
      "telegram secrets",
      fc.tuple(
        headerValue.filter((v) => v !== telegram.secret),
        fc.boolean(),
      ),
      async ([secret, realUpdate]) => {
        const body = realUpdate ? privateMessage(telegramUser()) : { update_id: 1 };
        const { status, text } = await answerOf(
          await postTelegram(server, telegram.id, secret, body),
        );
        assert.equal(status, 401);
        assert.deepEqual(JSON.parse(text), {
          error: "Invalid webhook secret",
          code: "unauthorized",
        });
      },
      runs(60),
    );
    await assertUnchanged(server, owner.id, before);
  });

  it("Instagram: garbage bodies with a valid signature", async () => {
    const before = await storedState(server, owner.id);
    await check(
      "instagram bodies, valid signature",
      fc.oneof(
        garbledDelivery(accountId).map((v) => JSON.stringify(v)),
        anyText,
        fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
      ),
      async (raw) => {
        const { status, text } = await answerOf(
          await postInstagram(server, raw, hubSignature(raw, APP_SECRET)),
        );
        let isJson = true;
        try {
          JSON.parse(raw);
        } catch {
          isJson = false;
        }
        if (isJson) {
          assert.equal(status, 200, `${raw.slice(0, 80)} -> ${text}`);
        } else {
          assert.equal(status, 400, raw.slice(0, 80));
          assert.deepEqual(JSON.parse(text), { error: "Body is not valid JSON", code: "invalid" });
        }
      },
      runs(120),
    );
    await assertUnchanged(server, owner.id, before);
  });

  it("Instagram: garbage signatures", async () => {
    const before = await storedState(server, owner.id);
    const realBody = JSON.stringify({
      object: "instagram",
      entry: [
        {
          id: accountId,
          time: 1,
          messaging: [
            {
              sender: { id: "424242" },
              recipient: { id: accountId },
              timestamp: 1,
              message: { mid: "m.fuzz", text: "should never be stored" },
            },
          ],
        },
      ],
    });
    const valid = hubSignature(realBody, APP_SECRET);
    await check(
      "instagram signatures",
      fc
        .oneof(
          headerValue,
          fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256=${hex}`),
          fc
            .nat({ max: valid.length - 1 })
            .map((i) => `${valid.slice(0, i)}${valid[i] === "0" ? "1" : "0"}${valid.slice(i + 1)}`),
        )
        .filter((sig) => sig.trim().toLowerCase() !== valid),
      async (signature) => {
        const { status, text } = await answerOf(await postInstagram(server, realBody, signature));
        assert.equal(status, 401);
        assert.deepEqual(JSON.parse(text), { error: "Invalid signature", code: "unauthorized" });
      },
      runs(60),
    );
    await assertUnchanged(server, owner.id, before);
  });
});
