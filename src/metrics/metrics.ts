import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from "prom-client";

// The figures of protocol.md section 9, one registry per server, so that several servers in one
// process (tests) never share or double-register a metric. The names are a contract with
// dashboards and alerts (docs/operations.md): change them only with the contract.

export type SocketKind = "chat" | "conversations";
export type WebhookOutcome = "accepted" | "duplicate" | "rejected";
export type SendResult = "sent" | "retry" | "failed";
/**
 * answered: the model's text was stored; handoff: it asked for a person; failed: no answer
 * (errors after retries, an empty answer, repeated crashes); limited: the hourly cap handed the
 * conversation over; cancelled: an agent or a status change ended the turn first.
 */
export type AnswerOutcomeLabel = "answered" | "handoff" | "failed" | "limited" | "cancelled";

// Commit to socket write is a few milliseconds on one process and tens across processes; the
// upper buckets catch a stalled bus or a gap fill from the store.
const FANOUT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// A model answers in about a second to half a minute; retries push the tail further.
const MODEL_BUCKETS = [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

// A server frame starts with its type (every frame is built as `{"type":…, …}`), so the label is
// read from the first bytes instead of parsing each frame again on its way out.
const FRAME_TYPE = /^\{"type":"([a-z_]{1,40})"/;

/** Counts a label set's child once, so that hot paths skip prom-client's label hashing. */
class Children<T extends string> {
  private readonly cache = new Map<string, { inc(by?: number): void }>();
  constructor(
    private readonly counter: Counter<T>,
    private readonly label: T,
  ) {}

  inc(value: string, by = 1): void {
    let child = this.cache.get(value);
    if (!child) {
      child = this.counter.labels({ [this.label]: value } as LabelValues<T>);
      this.cache.set(value, child);
    }
    child.inc(by);
  }
}

/**
 * The counts of a counter with two labels (platform and outcome, say), kept as plain numbers and
 * added to the counter when the figures are read: prom-client hashes the label set on every
 * increment, even through `labels(…)`. Label sets are added in the order they first moved, which
 * is the order prom-client would have printed them in.
 */
class PairCounts<A extends string, B extends string> {
  private readonly byFirst = new Map<
    string,
    Map<string, { labels: LabelValues<A | B>; count: number }>
  >();
  private readonly inOrder: { labels: LabelValues<A | B>; count: number }[] = [];

  constructor(
    private readonly first: A,
    private readonly second: B,
  ) {}

  inc(first: string, second: string): void {
    let bySecond = this.byFirst.get(first);
    if (!bySecond) {
      bySecond = new Map();
      this.byFirst.set(first, bySecond);
    }
    let entry = bySecond.get(second);
    if (!entry) {
      entry = {
        labels: { [this.first]: first, [this.second]: second } as LabelValues<A | B>,
        count: 0,
      };
      bySecond.set(second, entry);
      this.inOrder.push(entry);
    }
    entry.count++;
  }

  /** Adds the counts since the last call to `counter`. */
  addTo(counter: Counter<A | B>): void {
    for (const entry of this.inOrder) {
      if (entry.count === 0) continue;
      counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}

// The event loop delay behind nodejs_eventloop_lag_p50/p99 is sampled by a timer that wakes the
// loop at this interval. prom-client's 10 ms woke an idle server 100 times a second (about 5 ms
// of CPU per second, and as much again per second under light traffic). At 100 ms every stall
// longer than 100 ms is still seen; a shorter one is seen in proportion to its length.
const EVENT_LOOP_SAMPLE_MS = 100;

export class Metrics {
  readonly registry = new Registry();
  private readonly connections: Gauge<"kind">;
  private readonly connects: Counter<"kind">;
  private readonly closes: Counter<"code">;
  private readonly framesIn: Children<"type">;
  private readonly framesOut: Children<"type">;
  private readonly stored = new PairCounts("type", "source");
  private readonly fanout: Histogram;
  private readonly webhooks = new PairCounts("platform", "outcome");
  private readonly sends: Counter<"platform" | "result">;
  private readonly closeCodes: Children<"code">;
  private readonly answers: Counter<"outcome">;
  private readonly modelRequests: Histogram<"result">;
  private outboxPending: () => Promise<number> = async () => 0;
  private lastSentFrame = "";
  private lastSentType = "unknown";
  /** Writes of `lastSentFrame` not yet added to the counter. */
  private lastSentCount = 0;
  private busUp: () => Promise<boolean> = async () => true;

  constructor(options: { defaults?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaults !== false) {
      collectDefaultMetrics({
        register: this.registry,
        eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
      });
    }
    this.connections = new Gauge({
      name: "fiko_websocket_connections",
      help: "Open sockets on this process",
      labelNames: ["kind"],
      registers,
    });
    this.connects = new Counter({
      name: "fiko_websocket_connects_total",
      help: "Sockets accepted after authentication and access checks",
      labelNames: ["kind"],
      registers,
    });
    this.closes = new Counter({
      name: "fiko_websocket_closes_total",
      help: "Closed sockets by close code",
      labelNames: ["code"],
      registers,
    });
    this.closeCodes = new Children(this.closes, "code");
    const framesIn = new Counter({
      name: "fiko_websocket_frames_received_total",
      help: "Frames received, by client frame type (invalid: not a valid client frame)",
      labelNames: ["type"],
      registers,
    });
    this.framesIn = new Children(framesIn, "type");
    const framesOut = new Counter({
      name: "fiko_websocket_frames_sent_total",
      help: "Frames written to sockets, by server frame type",
      labelNames: ["type"],
      registers,
      // Writes are counted in a plain number and added here, when the figures are read.
      collect: () => this.addSentFrames(),
    });
    this.framesOut = new Children(framesOut, "type");
    const stored: Counter<"type" | "source"> = new Counter({
      name: "fiko_messages_stored_total",
      help: "Messages stored, by message type and conversation source",
      labelNames: ["type", "source"],
      registers,
      collect: () => this.stored.addTo(stored),
    });
    this.fanout = new Histogram({
      name: "fiko_fanout_seconds",
      help: "From a message's commit to its frame written to this process's sockets",
      buckets: FANOUT_BUCKETS,
      registers,
    });
    const webhooks: Counter<"platform" | "outcome"> = new Counter({
      name: "fiko_webhook_requests_total",
      help: "Platform webhook requests by outcome",
      labelNames: ["platform", "outcome"],
      registers,
      collect: () => this.webhooks.addTo(webhooks),
    });
    const pending = () => this.outboxPending();
    new Gauge({
      name: "fiko_outbox_pending",
      help: "Outgoing messages not yet sent or failed (the whole database, not this process)",
      registers,
      async collect() {
        this.set(await pending());
      },
    });
    this.sends = new Counter({
      name: "fiko_outbox_sends_total",
      help: "Send attempts to the platforms by result",
      labelNames: ["platform", "result"],
      registers,
    });
    this.answers = new Counter({
      name: "fiko_ai_answers_total",
      help: "Automatic answer turns by outcome (answered, handoff, failed, limited, cancelled)",
      labelNames: ["outcome"],
      registers,
    });
    this.modelRequests = new Histogram({
      name: "fiko_ai_request_seconds",
      help: "One automatic answer's model request, retries included, by result (ok, error)",
      labelNames: ["result"],
      buckets: MODEL_BUCKETS,
      registers,
    });
    const up = () => this.busUp();
    new Gauge({
      name: "fiko_bus_up",
      help: "1 when the bus is connected, else 0",
      registers,
      async collect() {
        this.set((await up()) ? 1 : 0);
      },
    });
  }

  /** Sources of the gauges read at scrape time. */
  observe(sources: { outboxPending?: () => Promise<number>; busUp?: () => Promise<boolean> }) {
    if (sources.outboxPending) this.outboxPending = sources.outboxPending;
    if (sources.busUp) this.busUp = sources.busUp;
  }

  socketOpened(kind: SocketKind): void {
    this.connections.inc({ kind });
    this.connects.inc({ kind });
  }

  /** `kind` only for a socket that was counted open. */
  socketClosed(kind: SocketKind | undefined, code: number): void {
    if (kind) this.connections.dec({ kind });
    this.closeCodes.inc(String(code));
  }

  frameReceived(type: string): void {
    this.framesIn.inc(type);
  }

  frameSent(frame: string): void {
    // One event's frame goes to every socket of its conversation: the same string, so its type
    // is read once and its writes are counted in a number, added to the counter (whose labels
    // prom-client hashes on every increment) once per event or when the figures are read.
    if (frame !== this.lastSentFrame) {
      this.addSentFrames();
      this.lastSentFrame = frame;
      this.lastSentType = FRAME_TYPE.exec(frame)?.[1] ?? "unknown";
    }
    this.lastSentCount++;
  }

  private addSentFrames(): void {
    if (this.lastSentCount === 0) return;
    this.framesOut.inc(this.lastSentType, this.lastSentCount);
    this.lastSentCount = 0;
  }

  messageStored(type: string, source: string): void {
    this.stored.inc(type, source);
  }

  fanoutWritten(committedAt: number): void {
    this.fanout.observe(Math.max(0, Date.now() - committedAt) / 1000);
  }

  webhook(platform: string, outcome: WebhookOutcome): void {
    this.webhooks.inc(platform, outcome);
  }

  outboxSend(platform: string, result: SendResult): void {
    this.sends.inc({ platform, result });
  }

  /** How one customer turn in an `active` conversation ended. */
  aiAnswer(outcome: AnswerOutcomeLabel): void {
    this.answers.inc({ outcome });
  }

  aiRequest(result: "ok" | "error", seconds: number): void {
    this.modelRequests.observe({ result }, seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
