import type { Logger } from "pino";
import type { Bus, Unsubscribe } from "../bus/bus.js";
import {
  type BusEvent,
  type ConversationEvent,
  conversationTopic,
  type OwnerEvent,
  ownerTopic,
} from "../domain/events.js";
import type { Store } from "../store/store.js";
import type { CloseCode } from "./close-codes.js";
import { ConversationGroup } from "./conversation-group.js";
import { ExpirySchedule } from "./expiry-schedule.js";
import { frameFor } from "./frames.js";
import { type RecentSlot, RecentSnapshots } from "./recent-snapshots.js";
import { SharedFrame } from "./shared-frame.js";
import type { SocketMember } from "./socket-member.js";

const GAP_FETCH_LIMIT = 500;

interface Entry<G> {
  group: G;
  ready: Promise<void>;
  unsubscribe: Promise<Unsubscribe | undefined>;
}

/** A conversation's entry: it may outlive its last socket by the linger time. */
interface ConversationEntry extends Entry<ConversationGroup> {
  /** Set while the bus subscription is active: a kept snapshot is exact only then. */
  subscribed: boolean;
  /** When the last socket left (performance.now()), while none is connected. */
  emptySince: number | undefined;
  lingerTimer: NodeJS.Timeout | undefined;
}

/** List sockets of one owner: every event becomes one frame for all of them. */
export class OwnerGroup {
  readonly members = new Set<SocketMember & { onResync?: () => void }>();

  onEvent(event: OwnerEvent): void {
    const frame = new SharedFrame(frameFor(event));
    for (const member of this.members) member.deliver(frame);
  }
}

/**
 * This process's side of the fan-out: a bus subscription per conversation or owner that has
 * local sockets, dropped when the last one leaves (a conversation's after `groupLingerMs`).
 * Knows sockets only as `SocketMember`s.
 */
export class Gateway {
  private readonly conversations = new Map<string, ConversationEntry>();
  private readonly owners = new Map<number, Entry<OwnerGroup>>();
  private readonly members = new Set<SocketMember>();
  /** Closes each socket with 4001 when its access token expires. */
  private readonly expiries = new ExpirySchedule();
  /** Set by `closeAll`: conversations left from then on are let go at once. */
  private closing = false;
  /** The `recent_messages` frames of subscribed conversations, exact while kept. */
  private readonly snapshots = new RecentSnapshots();

  constructor(
    private readonly deps: {
      bus: Bus;
      store: Store;
      log: Logger;
      gapWaitMs?: number;
      /**
       * How long a conversation stays subscribed, its snapshot kept, after its last socket
       * left: a reload, a reconnect or a switch back then costs no subscription and no read.
       */
      groupLingerMs: number;
      /** Fan-out delay of each message released to local sockets (metrics). */
      onFanout?: (committedAt: number) => void;
    },
  ) {
    deps.bus.onResync(() => this.resync());
  }

  get socketCount(): number {
    return this.members.size;
  }

  /** Conversations and owners with a bus subscription on this process (leak checks). */
  get groupCount(): number {
    return this.conversations.size + this.owners.size;
  }

  /** Heartbeats and expiry for `member` until `untrack` (its socket's close). */
  track(member: SocketMember): void {
    this.members.add(member);
    member.socket.on("pong", () => {
      member.alive = true;
    });
  }

  /** Closes the member's socket with 4001 at `expiresAt` (epoch ms), unless it closed first. */
  expireAt(member: SocketMember, expiresAt: number): void {
    member.expiresAt = expiresAt;
    this.expiries.add(member);
  }

  untrack(member: SocketMember): void {
    this.members.delete(member);
    this.expiries.remove(member);
  }

  /**
   * Resolves when the member will receive every message stored after the snapshot it reads
   * next, with the conversation's kept snapshot.
   */
  async joinConversation(conversationId: string, member: SocketMember): Promise<RecentSlot> {
    let entry = this.conversations.get(conversationId);
    if (!entry) {
      const group = new ConversationGroup(
        conversationId,
        async (id, afterSeq) =>
          (await this.deps.store.messages.after(id, afterSeq, GAP_FETCH_LIMIT)).messages,
        this.deps.gapWaitMs ?? 100,
        this.deps.log,
        this.deps.onFanout,
      );
      const subscribed = this.subscribe(conversationTopic(conversationId), (event) =>
        group.onEvent(event as ConversationEvent),
      );
      const created: ConversationEntry = {
        group,
        ready: subscribed.then(async (unsubscribe) => {
          group.start((await this.deps.store.conversations.lastSeq(conversationId)) ?? 0);
          created.subscribed = unsubscribe !== undefined;
        }),
        unsubscribe: subscribed,
        subscribed: false,
        emptySince: undefined,
        lingerTimer: undefined,
      };
      entry = created;
      this.conversations.set(conversationId, entry);
    }
    entry.group.members.add(member);
    entry.emptySince = undefined;
    await entry.ready;
    return this.recentSlot(conversationId, entry);
  }

  leaveConversation(conversationId: string, member: SocketMember): void {
    const entry = this.conversations.get(conversationId);
    if (!entry?.group.members.delete(member) || entry.group.members.size > 0) return;
    const { groupLingerMs } = this.deps;
    if (groupLingerMs === 0 || this.closing) {
      this.dropConversation(conversationId, entry);
      return;
    }
    entry.emptySince = performance.now();
    // One timer per lingering conversation, not one per leave: it looks again when it fires.
    entry.lingerTimer ??= this.lingerCheck(conversationId, entry, groupLingerMs);
  }

  private lingerCheck(conversationId: string, entry: ConversationEntry, waitMs: number) {
    const timer = setTimeout(() => {
      entry.lingerTimer = undefined;
      if (entry.emptySince === undefined) return; // a socket came back
      const left = entry.emptySince + this.deps.groupLingerMs - performance.now();
      if (left > 0) entry.lingerTimer = this.lingerCheck(conversationId, entry, left);
      else this.dropConversation(conversationId, entry);
    }, waitMs);
    timer.unref();
    return timer;
  }

  private dropConversation(conversationId: string, entry: ConversationEntry): void {
    clearTimeout(entry.lingerTimer);
    entry.lingerTimer = undefined;
    if (this.conversations.get(conversationId) === entry) this.conversations.delete(conversationId);
    this.snapshots.delete(conversationId);
    entry.group.stop();
    void this.release(entry);
  }

  private recentSlot(conversationId: string, entry: ConversationEntry): RecentSlot {
    const { group } = entry;
    // Taken now, before the snapshot is read: an event during the read changes it.
    const version = group.version;
    const snapshots = this.snapshots;
    return {
      cached: (customer) =>
        entry.subscribed ? snapshots.get(conversationId, group.version, customer) : undefined,
      keep: (customer, snapshot) => {
        if (entry.subscribed && group.version === version && !group.stopped) {
          snapshots.keep(conversationId, version, customer, snapshot);
        }
      },
    };
  }

  async joinOwner(
    ownerId: number,
    member: SocketMember & { onResync?: () => void },
  ): Promise<void> {
    let entry = this.owners.get(ownerId);
    if (!entry) {
      const group = new OwnerGroup();
      const subscribed = this.subscribe(ownerTopic(ownerId), (event) =>
        group.onEvent(event as OwnerEvent),
      );
      entry = { group, ready: subscribed.then(() => undefined), unsubscribe: subscribed };
      this.owners.set(ownerId, entry);
    }
    entry.group.members.add(member);
    await entry.ready;
  }

  leaveOwner(ownerId: number, member: SocketMember): void {
    const entry = this.owners.get(ownerId);
    if (!entry?.group.members.delete(member) || entry.group.members.size > 0) return;
    this.owners.delete(ownerId);
    void this.release(entry);
  }

  /** Pings every socket; one that did not answer the previous ping is dropped. */
  heartbeat(): void {
    for (const member of this.members) {
      if (!member.alive) {
        member.socket.terminate();
        continue;
      }
      member.alive = false;
      member.socket.ping();
    }
  }

  closeAll(code: CloseCode): void {
    this.closing = true;
    this.expiries.stop();
    for (const member of this.members) member.close(code);
    // Lingering conversations have no socket to close: let them go now.
    for (const [id, entry] of this.conversations) {
      if (entry.group.members.size === 0) this.dropConversation(id, entry);
    }
  }

  /** The bus came back after an outage: catch every group up from the store. */
  resync(): void {
    this.deps.log.info("bus resync: catching sockets up from the store");
    for (const { group } of this.conversations.values()) group.catchUp();
    for (const { group } of this.owners.values()) {
      for (const member of group.members) member.onResync?.();
    }
  }

  private async subscribe(
    topic: string,
    handler: (event: BusEvent) => void,
  ): Promise<Unsubscribe | undefined> {
    try {
      return await this.deps.bus.subscribe(topic, handler);
    } catch (err) {
      // Sockets still get their snapshot and their own answers; live frames resume on resync.
      this.deps.log.error({ err, topic }, "bus subscribe failed");
      return undefined;
    }
  }

  private async release(entry: Entry<unknown>): Promise<void> {
    try {
      await (await entry.unsubscribe)?.();
    } catch (err) {
      this.deps.log.warn({ err }, "bus unsubscribe failed");
    }
  }
}
