import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AiSettingsView } from "../../client/wire.js";
import type { ConversationView } from "../../src/domain/views.js";
import { api, ingest, registerUser, startServer, type TestServer } from "../helpers/server.js";
import {
  type AiWorld,
  customerWrites,
  describeAiStores,
  newCustomerId,
  noPendingAnswer,
  openShop,
  putSettings,
  startAiWorld,
} from "./support.js";

// protocol.md section 11: `GET/PUT /api/ai/settings/`, per user, validated, on both stores; and
// the status new conversations start in.

const DEFAULTS: AiSettingsView = {
  available: true,
  enabled: false,
  instructions: "",
  new_conversation_status: "support_active",
};

describeAiStores("automatic-answer settings", (kind) => {
  let world: AiWorld;
  before(async () => {
    world = await startAiWorld(kind);
  });
  after(async () => {
    await world.close();
  });

  it("answers the defaults to a user who never changed them", async () => {
    const user = await registerUser(world.server);
    const res = await api<AiSettingsView>(world.server, "GET", "/api/ai/settings/", {
      token: user.access,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, DEFAULTS);
  });

  it("needs a token", async () => {
    const res = await api(world.server, "GET", "/api/ai/settings/");
    assert.equal(res.status, 401);
    const put = await api(world.server, "PUT", "/api/ai/settings/", { body: { enabled: true } });
    assert.equal(put.status, 401);
  });

  it("changes only the fields given, keeps them per user, with and without the slash", async () => {
    const user = await registerUser(world.server);
    const other = await registerUser(world.server);
    const first = await putSettings(world.server, user, { enabled: true });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { ...DEFAULTS, enabled: true });

    const instructions = "We sell bicycles. Opening hours: 9-18. Never promise discounts.";
    const second = await api<AiSettingsView>(world.server, "PUT", "/api/ai/settings", {
      token: user.access,
      body: { instructions, new_conversation_status: "active" },
    });
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, {
      available: true,
      enabled: true,
      instructions,
      new_conversation_status: "active",
    });
    const read = await api<AiSettingsView>(world.server, "GET", "/api/ai/settings", {
      token: user.access,
    });
    assert.deepEqual(read.body, second.body);

    const untouched = await api<AiSettingsView>(world.server, "GET", "/api/ai/settings/", {
      token: other.access,
    });
    assert.deepEqual(untouched.body, DEFAULTS);

    // The object GET answered may be sent back as it is; `available` is the server's to say.
    const echoed = await putSettings(world.server, user, { ...second.body, available: false });
    assert.equal(echoed.status, 200);
    assert.deepEqual(echoed.body, second.body);

    const off = await putSettings(world.server, user, { enabled: false });
    assert.deepEqual(off.body, { ...second.body, enabled: false });
  });

  it("answers 400 to a bad value and changes nothing", async () => {
    const user = await registerUser(world.server);
    const good = await putSettings(world.server, user, {
      enabled: true,
      instructions: "Be kind.",
    });
    assert.equal(good.status, 200);
    const bad: unknown[] = [
      { enabled: "yes" },
      { enabled: true, instructions: "x".repeat(8001) },
      { instructions: 42 },
      { new_conversation_status: "closed" },
      { new_conversation_status: "marketing_active" },
      { enabled: false, new_conversation_status: null },
      { enabeld: false },
      [{ enabled: false }],
      '"enabled"',
      "null",
    ];
    for (const body of bad) {
      const res = await putSettings(world.server, user, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((res.body as unknown as { code: string }).code, "invalid");
    }
    const broken = await api(world.server, "PUT", "/api/ai/settings/", {
      token: user.access,
      body: "{not json",
    });
    assert.equal(broken.status, 400);
    const after = await api<AiSettingsView>(world.server, "GET", "/api/ai/settings/", {
      token: user.access,
    });
    assert.deepEqual(after.body, good.body);

    const longest = await putSettings(world.server, user, { instructions: "x".repeat(8000) });
    assert.equal(longest.status, 200);
    assert.equal(longest.body.instructions.length, 8000);
  });

  it("starts new conversations in new_conversation_status only while enabled", async () => {
    const shop = await openShop(world, { enabled: true, new_conversation_status: "active" });
    const { conversation: first } = await customerWrites(world, shop, newCustomerId(), "Hello");
    assert.equal(first.status, "active");

    await putSettings(world.server, shop.owner, { enabled: false });
    const { conversation: second } = await customerWrites(world, shop, newCustomerId(), "Hi");
    assert.equal(second.status, "support_active");

    await putSettings(world.server, shop.owner, {
      enabled: true,
      new_conversation_status: "support_active",
    });
    const { conversation: third } = await customerWrites(world, shop, newCustomerId(), "Hey");
    assert.equal(third.status, "support_active");
    const listed = await api<ConversationView>(
      world.server,
      "GET",
      `/api/conversations/${first.id}/`,
      { token: shop.owner.access },
    );
    assert.equal(listed.body.status, "active");
  });

  it("switched off, schedules nothing and leaves statuses alone", async () => {
    const shop = await openShop(world, { enabled: true, new_conversation_status: "active" });
    const customer = newCustomerId();
    const text = `Hello, is anyone there? ${customer}`;
    const { conversation } = await customerWrites(world, shop, customer, text);
    assert.equal(conversation.status, "active");
    // Switched off inside the quiet window: the job is dropped when it comes due.
    await putSettings(world.server, shop.owner, { enabled: false });
    const again = await customerWrites(world, shop, customer, "Anyone?");
    assert.equal(again.answerScheduled, false);
    assert.equal(again.conversation.status, "active");
    const deadline = Date.now() + 5000;
    while (!(await noPendingAnswer(world.server))) {
      assert.ok(Date.now() < deadline, "the job was never dropped");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const asked = world.model.requests.filter((r) =>
      r.body.messages?.some((m) => m.content === text),
    );
    assert.equal(asked.length, 0);
    const after = await api<ConversationView>(
      world.server,
      "GET",
      `/api/conversations/${conversation.id}/`,
      { token: shop.owner.access },
    );
    assert.equal(after.body.status, "active");
  });
});

describe("automatic answers without a model configured", () => {
  let server: TestServer;
  before(async () => {
    // No AI_BASE_URL and no AI_MODEL: answers are unavailable whatever the user chose.
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  it("reports available false, keeps the choice, starts conversations support_active", async () => {
    const user = await registerUser(server);
    const res = await api<AiSettingsView>(server, "PUT", "/api/ai/settings/", {
      token: user.access,
      body: { enabled: true, new_conversation_status: "active" },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      available: false,
      enabled: true,
      instructions: "",
      new_conversation_status: "active",
    });
    const { conversation, answerScheduled } = await ingest(server, user.id, "Hello");
    assert.equal(conversation.status, "support_active");
    assert.equal(answerScheduled, false);
  });
});
