import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ModelClient, ModelError } from "../../src/ai/model-client.js";
import { plainText } from "../../src/ai/plain-text.js";
import type { AiConfig } from "../../src/config.js";
import { errorReply, FakeModel, handoffReply } from "../helpers/fake-model.js";

// The model client against the fake server, and the plain-text filter, without a chat server.

describe("model client", () => {
  let fake: FakeModel;
  let config: AiConfig;
  before(async () => {
    fake = await FakeModel.start();
    config = {
      baseUrl: fake.baseUrl,
      model: "local-model",
      apiKey: undefined,
      replyDelayMs: 0,
      timeoutMs: 2000,
      historyLimit: 5,
      maxAnswersPerHour: 5,
    };
  });
  after(async () => {
    await fake.close();
  });

  it("sends no Authorization header without a key (local servers)", async () => {
    const client = new ModelClient(config);
    const answer = await client.answer([{ role: "user", content: "hi" }]);
    assert.equal(answer.handoff, false);
    assert.equal(fake.requests.at(-1)?.headers.authorization, undefined);
  });

  it("reads a handoff's reason and keeps its text", async () => {
    fake.script(handoffReply("wants a person", "A colleague will write to you."));
    const answer = await new ModelClient(config).answer([{ role: "user", content: "human!" }]);
    assert.deepEqual(answer, {
      text: "A colleague will write to you.",
      handoff: true,
      handoffReason: "wants a person",
    });
  });

  it("tries a 429 at most twice more, then fails with a message free of the key", async () => {
    const client = new ModelClient(
      { ...config, apiKey: "sk-secret-key" },
      { retryPausesMs: [1, 1] },
    );
    const before = fake.requests.length;
    fake.script(errorReply(429), errorReply(429), errorReply(429));
    await assert.rejects(client.answer([{ role: "user", content: "x" }]), (err: unknown) => {
      assert.ok(err instanceof ModelError);
      assert.equal(err.retryable, true);
      assert.equal(err.message, "The model server is rate limiting (HTTP 429)");
      return true;
    });
    assert.equal(fake.requests.length, before + 3);
    assert.equal(fake.requests.at(-1)?.headers.authorization, "Bearer sk-secret-key");
  });

  it("does not retry a 400", async () => {
    const client = new ModelClient(config, { retryPausesMs: [1, 1] });
    const before = fake.requests.length;
    fake.script(errorReply(400));
    await assert.rejects(client.answer([{ role: "user", content: "x" }]), ModelError);
    assert.equal(fake.requests.length, before + 1);
  });
});

describe("plain text", () => {
  it("takes Markdown off and keeps the words and links", () => {
    assert.equal(
      plainText(
        "## Shipping\n**Free** over 50 EUR, *fast* and `tracked`.\n* Spain\n* France\n[Terms](https://x.test/t_c)\n```\ncode\n```",
      ),
      "Shipping\nFree over 50 EUR, fast and tracked.\n- Spain\n- France\nTerms (https://x.test/t_c)\ncode",
    );
    assert.equal(plainText("snake_case_name and 2*3*4 stay"), "snake_case_name and 2*3*4 stay");
    assert.equal(plainText("x".repeat(5000)).length, 4096);
    assert.equal(plainText("  \n "), "");
  });
});
