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

/**
 * A labelled counter's counts, kept as plain numbers and added to the counter when the figures
 * are read: prom-client hashes the label set on every increment, even through a child from
 * `labels(…)`, and these counters move on every message and frame. Label sets are added in the
 * order they first moved, which is the order prom-client would have printed them in.
 */
class LabelCounts<L extends string> {
  private readonly entries = new Map<string, { labels: LabelValues<L>; count: number }>();

  constructor(private readonly names: readonly L[]) {}

  /** `values` in the order of the label names. */
  inc(values: readonly string[], by = 1): void {
    const key = values.join("\u0000");
    let entry = this.entries.get(key);
    if (!entry) {
      const labels: Partial<Record<L, string>> = {};
      this.names.forEach((name, i) => {
        labels[name] = values[i];
      });
      entry = { labels: labels as LabelValues<L>, count: 0 };
      this.entries.set(key, entry);
    }
    entry.count += by;
  }

  /** Adds the counts since the last call to `counter`. */
  addTo(counter: Counter<L>): void {
    for (const entry of this.entries.values()) {
      if (entry.count === 0) continue;
      counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}

/** A counter in `registers` whose increments go through `LabelCounts`; `beforeRead` first. */
function countedCounter<L extends string>(
  options: { name: string; help: string; labelNames: L[]; registers: Registry[] },
  beforeRead?: () => void,
): LabelCounts<L> {
  const counts = new LabelCounts(options.labelNames);
  const counter: Counter<L> = new Counter({
    ...options,
    collect: () => {
      beforeRead?.();
      counts.addTo(counter);
    },
  });
  return counts;
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
  private readonly closeCodes: LabelCounts<"code">;
  private readonly framesIn: LabelCounts<"type">;
  private readonly framesOut: LabelCounts<"type">;
  private readonly stored: LabelCounts<"type" | "source">;
  private readonly fanout: Histogram;
  private readonly webhooks: LabelCounts<"platform" | "outcome">;
  private readonly sends: Counter<"platform" | "result">;
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
    this.closeCodes = countedCounter({
      name: "fiko_websocket_closes_total",
      help: "Closed sockets by close code",
      labelNames: ["code"],
      registers,
    });
    this.framesIn = countedCounter({
      name: "fiko_websocket_frames_received_total",
      help: "Frames received, by client frame type (invalid: not a valid client frame)",
      labelNames: ["type"],
      registers,
    });
    // The writes of the last frame are counted in a plain number first (see frameSent).
    this.framesOut = countedCounter(
      {
        name: "fiko_websocket_frames_sent_total",
        help: "Frames written to sockets, by server frame type",
        labelNames: ["type"],
        registers,
      },
      () => this.addSentFrames(),
    );
    this.stored = countedCounter({
      name: "fiko_messages_stored_total",
      help: "Messages stored, by message type and conversation source",
      labelNames: ["type", "source"],
      registers,
    });
    this.fanout = new Histogram({
      name: "fiko_fanout_seconds",
      help: "From a message's commit to its frame written to this process's sockets",
      buckets: FANOUT_BUCKETS,
      registers,
    });
    this.webhooks = countedCounter({
      name: "fiko_webhook_requests_total",
      help: "Platform webhook requests by outcome",
      labelNames: ["platform", "outcome"],
      registers,
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
    this.closeCodes.inc([String(code)]);
  }

  frameReceived(type: string): void {
    this.framesIn.inc([type]);
  }

  frameSent(frame: string): void {
    // One event's frame goes to every socket of its conversation: the same string, so its type
    // is read once and its writes are counted in a number, added to the type's count once per
    // event or when the figures are read.
    if (frame !== this.lastSentFrame) {
      this.addSentFrames();
      this.lastSentFrame = frame;
      this.lastSentType = FRAME_TYPE.exec(frame)?.[1] ?? "unknown";
    }
    this.lastSentCount++;
  }

  private addSentFrames(): void {
    if (this.lastSentCount === 0) return;
    this.framesOut.inc([this.lastSentType], this.lastSentCount);
    this.lastSentCount = 0;
  }

  messageStored(type: string, source: string): void {
    this.stored.inc([type, source]);
  }

  fanoutWritten(committedAt: number): void {
    this.fanout.observe(Math.max(0, Date.now() - committedAt) / 1000);
  }

  webhook(platform: string, outcome: WebhookOutcome): void {
    this.webhooks.inc([platform, outcome]);
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
