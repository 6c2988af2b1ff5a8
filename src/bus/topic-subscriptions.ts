import type { Logger } from "pino";
import type { BusHandler, Unsubscribe } from "./bus.js";

/** The broker side of one subscription per topic, as `TopicSubscriptions` drives it. */
export interface TopicLink {
  /** Whether commands can go out now. When not, `reconcileAll` runs once the link is back. */
  isReady(): boolean;
  /** Must be harmless for a topic the link holds already: `reconcileAll` re-asserts them. */
  subscribe(topic: string): Promise<void>;
  unsubscribe(topic: string): Promise<void>;
}

interface TopicState {
  readonly handlers: Set<BusHandler>;
  /** Whether the link holds a subscription for the topic (what a reconnect restores). */
  active: boolean;
  /** The tail of this topic's operations: they run one at a time, in call order. */
  chain: Promise<void>;
}

/**
 * Local handlers per topic over one broker subscription per topic: the first handler subscribes,
 * the last one to leave unsubscribes. Operations on one topic are serialized and each one
 * compares what is wanted (any handlers?) with what the link holds at the moment it runs, so an
 * unsubscribe racing a new subscribe can never leave a topic with handlers unsubscribed.
 *
 * While the link is down nothing is sent: `add` resolves at once (the caller reads the store for
 * its snapshot; the resync after the reconnect covers what follows) and `reconcileAll`, run when
 * the link is back, brings every topic to the wanted state, re-asserting the subscriptions the
 * link should hold (on a Redis Cluster one may have been lost with a node or a slot move).
 */
export class TopicSubscriptions {
  private readonly topics = new Map<string, TopicState>();

  constructor(
    private readonly link: TopicLink,
    private readonly log: Logger,
  ) {}

  /** The handlers of `topic`, for dispatching an incoming event. */
  handlersOf(topic: string): ReadonlySet<BusHandler> | undefined {
    return this.topics.get(topic)?.handlers;
  }

  /** Topics that have handlers in this process. */
  get size(): number {
    let count = 0;
    for (const state of this.topics.values()) if (state.handlers.size > 0) count++;
    return count;
  }

  async add(topic: string, handler: BusHandler): Promise<Unsubscribe> {
    let state = this.topics.get(topic);
    if (!state) {
      state = { handlers: new Set(), active: false, chain: Promise.resolve() };
      this.topics.set(topic, state);
    }
    const current = state;
    // A handler function may be added twice; each call gets its own removal.
    const own: BusHandler = (event) => handler(event);
    current.handlers.add(own);
    try {
      await this.sync(topic, current);
    } catch (err) {
      current.handlers.delete(own);
      void this.sync(topic, current).catch(() => {});
      throw err;
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      current.handlers.delete(own);
      await this.sync(topic, current);
    };
  }

  /**
   * After the link came back: subscribe what is wanted, drop what is not. A wanted topic is
   * subscribed again even when the link held it (the link only adds its listener then), so one
   * whose subscription was lost with the connection, or moved to another node, is restored.
   * Resolves with the number of topics that failed.
   */
  async reconcileAll(): Promise<number> {
    const runs = [...this.topics].map(([topic, state]) => this.sync(topic, state, true));
    const results = await Promise.allSettled(runs);
    const failed = results.filter((r) => r.status === "rejected").length;
    if (failed > 0) this.log.warn({ failed, topics: runs.length }, "bus re-subscribe failed");
    return failed;
  }

  clear(): void {
    this.topics.clear();
  }

  private sync(topic: string, state: TopicState, reassert = false): Promise<void> {
    const run = state.chain.then(() => this.apply(topic, state, reassert));
    state.chain = run.catch(() => {});
    return run;
  }

  private async apply(topic: string, state: TopicState, reassert: boolean): Promise<void> {
    const wanted = state.handlers.size > 0;
    const change = wanted ? reassert || !state.active : state.active;
    if (change && this.link.isReady()) {
      try {
        if (wanted) await this.link.subscribe(topic);
        else await this.link.unsubscribe(topic);
        state.active = wanted;
      } catch (err) {
        // Refused while connected: a real error for the caller. Lost with the connection: the
        // reconcile after the reconnect finishes the job.
        if (this.link.isReady()) throw err;
        this.log.debug({ err, topic }, "bus subscription change deferred until reconnect");
      }
    }
    // Read the handlers again: one may have joined while the command was on the wire.
    if (state.handlers.size === 0 && !state.active && this.topics.get(topic) === state) {
      this.topics.delete(topic);
    }
  }
}
