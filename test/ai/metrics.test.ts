import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../helpers/cluster.js";
import { errorReply, handoffReply, type ModelReply, textReply } from "../helpers/fake-model.js";
import { type Scrape, scrape } from "../helpers/metrics.js";
import {
  type AiWorld,
  activeConversation,
  customerWrites,
  openShop,
  type Shop,
  startAiWorld,
} from "./support.js";

// The automatic-answer figures on /metrics: one outcome per customer turn, one request timing
// per model call (retries inside it included).

type Outcome = "answered" | "handoff" | "failed" | "limited" | "cancelled";

function figures(s: Scrape) {
  const count = (outcome: Outcome) => s.value("fiko_ai_answers_total", { outcome });
  return {
    outcomes: {
      answered: count("answered"),
      handoff: count("handoff"),
      failed: count("failed"),
      limited: count("limited"),
      cancelled: count("cancelled"),
    },
    ok: s.value("fiko_ai_request_seconds_count", { result: "ok" }),
    error: s.value("fiko_ai_request_seconds_count", { result: "error" }),
  };
}

describe("automatic answer metrics", () => {
  let world: AiWorld;
  let shop: Shop;
  before(async () => {
    world = await startAiWorld("sqlite");
    shop = await openShop(world, { enabled: true });
  });
  after(async () => {
    await world.close();
  });

  /** Runs one turn and waits until `outcome` moved; the counter moves after the frames go out. */
  async function turn(reply: ModelReply, outcome: Outcome) {
    const before = figures(await scrape(world.server));
    const { customerId, chat, list } = await activeConversation(world, shop);
    world.model.script(reply);
    await customerWrites(world, shop, customerId, `metrics ${outcome}`);
    await waitFor(
      async () =>
        figures(await scrape(world.server)).outcomes[outcome] === before.outcomes[outcome] + 1,
      `fiko_ai_answers_total{outcome="${outcome}"} moved`,
      15_000,
    );
    await chat.close();
    await list.close();
    return { before, after: figures(await scrape(world.server)) };
  }

  it("declares the families with their types", async () => {
    const s = await scrape(world.server);
    assert.equal(s.types.get("fiko_ai_answers_total"), "counter");
    assert.equal(s.types.get("fiko_ai_request_seconds"), "histogram");
  });

  it("counts an answer, a handoff and a failure once each, with one timing per request", async () => {
    const answered = await turn(textReply("We ship in two days."), "answered");
    assert.deepEqual(answered.after, {
      outcomes: { ...answered.before.outcomes, answered: answered.before.outcomes.answered + 1 },
      ok: answered.before.ok + 1,
      error: answered.before.error,
    });

    const handoff = await turn(handoffReply("refund request"), "handoff");
    assert.deepEqual(handoff.after, {
      outcomes: { ...handoff.before.outcomes, handoff: handoff.before.outcomes.handoff + 1 },
      ok: handoff.before.ok + 1,
      error: handoff.before.error,
    });

    // A 401 is not retried: one request, timed as an error, and the turn failed.
    const failed = await turn(errorReply(401), "failed");
    assert.deepEqual(failed.after, {
      outcomes: { ...failed.before.outcomes, failed: failed.before.outcomes.failed + 1 },
      ok: failed.before.ok,
      error: failed.before.error + 1,
    });
  });
});
