import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import pino from "pino";
import type { Bus } from "../../src/bus/bus.js";
import { ChatService } from "../../src/domain/chat-service.js";
import type { BusEvent } from "../../src/domain/events.js";
import { inbound, newChannel, newOwner, type OpenedStore, openStore } from "../helpers/stores.js";

// A stored message's events are handed to the bus together, in order, without waiting for each
// publish to be answered: on Redis the client then writes them in one go (one round trip).

interface Publication {
  topic: string;
  kind: BusEvent["kind"];
  answer: () => void;
}

/** A bus that answers a publish only when the test says so. */
function gatedBus(published: Publication[]): Bus {
  return {
    publish: (topic, event) =>
      new Promise<void>((resolve) => published.push({ topic, kind: event.kind, answer: resolve })),
    subscribe: async () => async () => {},
    onResync: () => {},
    ping: async () => {},
    close: async () => {},
  };
}

let opened: OpenedStore;

before(async () => {
  const store = await openStore("sqlite");
  if (store === undefined) throw new Error("SQLite store did not open");
  opened = store;
});

after(() => opened.dispose());

it("hands a customer message's three events to the bus before any publish is answered", async () => {
  const published: Publication[] = [];
  const chat = new ChatService({
    store: opened.store,
    bus: gatedBus(published),
    log: pino({ level: "silent" }),
  });
  const owner = await newOwner(opened.store);
  const channel = await newChannel(opened.store, owner.id);

  let done = false;
  const ingesting = chat.ingestCustomerMessage(inbound(channel)).then((result) => {
    done = true;
    return result;
  });
  // Storing takes a few turns of the event loop; the publishes follow in the same turn.
  for (let turn = 0; turn < 200 && published.length < 3; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }

  const conversationId = (await opened.store.conversations.list(owner.id, {}, 1, null))
    .conversations[0]?.id;
  assert.deepEqual(
    published.map(({ topic, kind }) => `${topic} ${kind}`),
    [
      `conv:${conversationId} message_created`,
      `owner:${owner.id} new_customer_message`,
      `owner:${owner.id} conversation_updated`,
    ],
  );
  assert.equal(done, false, "the ingest waits for every publish");
  for (const publication of published) publication.answer();

  const result = await ingesting;
  assert.equal(result.conversation.id, conversationId);
});
