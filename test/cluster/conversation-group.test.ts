import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import type { Message } from "../../src/domain/types.js";
import { ConversationGroup } from "../../src/realtime/conversation-group.js";
import type { SocketMember } from "../../src/realtime/socket-member.js";
import { sampleMessage } from "../helpers/sample-message.js";

// The ordering group of one conversation, as several processes drive it: events out of order,
// events lost while the bus was down, and resyncs that come while a gap fill is still reading.

const log = pino({ level: "silent" });

const message = (seq: number): Message =>
  sampleMessage({
    id: `m${seq}`,
    conversationId: "c1",
    seq,
    content: `m${seq}`,
    type: "support",
    sender: { id: 1, username: "agent" },
    isAnswered: true,
    deliveryStatus: "sent",
  });

/** A member that records the seqs it is given. */
function recordingMember(): { member: SocketMember; seqs: number[] } {
  const seqs: number[] = [];
  const member = {
    id: "s1",
    deliver: (_frame: string, seq?: number) => {
      if (seq !== undefined) seqs.push(seq);
    },
  } as unknown as SocketMember;
  return { member, seqs };
}

/** A store whose reads can be held, to put a fill "in flight" at a chosen moment. */
class SlowStore {
  readonly stored: Message[] = [];
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};
  reads = 0;

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open();
  }

  readonly fetchAfter = async (_id: string, afterSeq: number): Promise<Message[]> => {
    this.reads++;
    // The read sees the rows committed when it starts, like a query would.
    const rows = this.stored.filter((m) => m.seq > afterSeq);
    await this.gate;
    return rows;
  };
}

describe("conversation group", () => {
  it("releases events in seq order whatever order they arrive in", async () => {
    const store = new SlowStore();
    const group = new ConversationGroup("c1", store.fetchAfter, 50, log);
    const { member, seqs } = recordingMember();
    group.members.add(member);
    group.start(0);
    for (const seq of [2, 1, 4, 3, 5]) {
      group.onEvent({ kind: "message_created", conversationId: "c1", message: message(seq) });
    }
    assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    group.stop();
  });

  it("fills a gap from the store when an event never comes", async () => {
    const store = new SlowStore();
    store.stored.push(message(1), message(2), message(3));
    const group = new ConversationGroup("c1", store.fetchAfter, 20, log);
    const { member, seqs } = recordingMember();
    group.members.add(member);
    group.start(0);
    group.onEvent({ kind: "message_created", conversationId: "c1", message: message(3) });
    await sleep(100);
    assert.deepEqual(seqs, [1, 2, 3]);
    group.stop();
  });

  it("does not lose a resync that comes while a fill is reading", async () => {
    const store = new SlowStore();
    const group = new ConversationGroup("c1", store.fetchAfter, 20, log);
    const { member, seqs } = recordingMember();
    group.members.add(member);
    group.start(0);
    // A catch-up is reading and finds nothing yet...
    store.hold();
    group.catchUp();
    await sleep(5);
    // ...when a message whose event was lost is stored and the bus resyncs again.
    store.stored.push(message(1));
    group.catchUp();
    store.release();
    await sleep(100);
    assert.deepEqual(seqs, [1]);
    group.stop();
  });
});
