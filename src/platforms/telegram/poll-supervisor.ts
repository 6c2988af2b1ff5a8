import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Channel } from "../../domain/types.js";
import type { ChannelStore } from "../../store/store.js";
import { describeError } from "../redact.js";

/** What the supervisor runs per channel: a `TelegramPoller` in production. */
export interface PollerHandle {
  start(): void;
  /** Aborts the long poll at once; resolves when the batch in hand is stored. */
  stop(): Promise<void>;
}

export interface PollSupervisorOptions {
  channels: ChannelStore;
  createPoller: (channel: Channel) => PollerHandle;
  log: Logger;
  /** How long a lease lasts unrenewed. Must comfortably exceed `intervalMs`. */
  leaseMs: number;
  /** How often leases are renewed and free channels looked for. */
  intervalMs: number;
  /** This process's name in `channels.poll_owner`; unique per process start. */
  owner?: string;
}

interface Running {
  poller: PollerHandle;
  /** Stops the poller before the lease could run out unrenewed. */
  watchdog: NodeJS.Timeout | undefined;
}

/** A process-unique lease owner name; the host and pid say who it is in the database. */
export function newPollOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/**
 * Telegram serves a bot's `getUpdates` to one reader at a time (a second gets 409), so among
 * all processes sharing the database exactly one polls each polling channel: the holder of the
 * channel's lease. Every `intervalMs` this lists the polling channels, renews the leases of the
 * channels it polls, takes free or run-out leases and starts their pollers, and stops pollers
 * whose channel is gone or whose lease went to someone else. A poller whose renewals keep
 * failing (the database is unreachable) is stopped when three quarters of its lease have passed,
 * so it is never still polling when another process may take over. The offset is stored after
 * every batch, so a handover neither loses nor repeats updates.
 */
export class PollSupervisor {
  readonly owner: string;
  private readonly running = new Map<string, Running>();
  /** Pollers being stopped; a new poller for the channel waits for its offset to be stored. */
  private readonly stopping = new Map<string, Promise<void>>();
  /** One operation at a time, so that a tick and a `claim` never both start a channel. */
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private active = false;

  constructor(private readonly options: PollSupervisorOptions) {
    this.owner = options.owner ?? newPollOwner();
  }

  /** Runs a first round now and then one every interval. */
  async start(): Promise<void> {
    if (this.active) return;
    this.active = true;
    await this.enqueue("poll supervision", () => this.tick());
    this.schedule();
  }

  /** Stops every poller (each stores its offset), then gives their leases up. */
  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    const ids = [...this.running.keys()];
    await Promise.all(ids.map((id) => this.stopPoller(id, { release: true })));
    await this.queue;
    await Promise.all(this.stopping.values());
  }

  /** A channel created here: try for its lease now rather than at the next round. */
  claim(channel: Channel): void {
    if (!this.active || channel.mode !== "polling") return;
    void this.enqueue("polling claim", () => this.ensure(channel));
  }

  /** A channel removed here: stop polling it now (other processes notice at their next round). */
  drop(channelId: string): Promise<void> {
    return this.enqueue("polling stop", () => this.stopPoller(channelId, { release: true }));
  }

  /** The channels this process polls right now. */
  polled(): string[] {
    return [...this.running.keys()];
  }

  private schedule(): void {
    if (!this.active) return;
    this.timer = setTimeout(() => {
      void this.enqueue("poll supervision", () => this.tick()).then(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private enqueue(label: string, task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task).catch((err: unknown) => {
      this.options.log.warn(
        { task: label, error: describeError(err) },
        "telegram polling task failed",
      );
    });
    this.queue = next;
    return next;
  }

  private async tick(): Promise<void> {
    if (!this.active) return;
    const { channels, log } = this.options;
    let polling: Channel[];
    try {
      polling = await channels.listAll("telegram", "polling");
    } catch (err) {
      // Nothing is renewed this round; the watchdogs stop pollers in time if it lasts.
      log.warn({ error: describeError(err) }, "listing polling channels failed");
      return;
    }
    const present = new Set(polling.map((c) => c.id));
    for (const id of [...this.running.keys()]) {
      if (!present.has(id)) {
        log.info({ channel: id }, "channel removed, polling stopped");
        await this.stopPoller(id, { release: false });
      }
    }
    for (const channel of polling) {
      if (!this.active) return;
      await this.ensure(channel);
    }
  }

  /** Renews the lease of a channel polled here, or tries to take it and starts polling. */
  private async ensure(channel: Channel): Promise<void> {
    const { channels, leaseMs, log } = this.options;
    const askedAt = Date.now();
    let held: boolean;
    try {
      held = await channels.acquirePollLease(channel.id, this.owner, askedAt, leaseMs);
    } catch (err) {
      log.warn({ channel: channel.id, error: describeError(err) }, "polling lease renewal failed");
      return;
    }
    const current = this.running.get(channel.id);
    if (!held) {
      if (current) {
        log.warn({ channel: channel.id }, "polling lease lost, polling stopped");
        await this.stopPoller(channel.id, { release: false });
      }
      return;
    }
    if (current) {
      this.arm(channel.id, current, askedAt);
      return;
    }
    // Newly ours (or still ours after a stop here): start from the offset stored last.
    await this.stopping.get(channel.id);
    if (!this.active) {
      await channels.releasePollLease(channel.id, this.owner);
      return;
    }
    const fresh = await channels.findById(channel.id);
    if (fresh?.mode !== "polling" || !this.active) {
      await channels.releasePollLease(channel.id, this.owner);
      return;
    }
    // A renewal that answered late may already be past the point where a running poller would
    // be stopped: starting one on it would only be stopped again at once. The next round asks
    // afresh.
    if (Date.now() >= this.stopDeadline(askedAt)) return;
    const entry: Running = { poller: this.options.createPoller(fresh), watchdog: undefined };
    this.running.set(channel.id, entry);
    this.arm(channel.id, entry, askedAt);
    entry.poller.start();
    log.info({ channel: channel.id, offset: fresh.pollOffset }, "polling lease taken");
  }

  /** When a poller on a lease renewed at `askedAt` must stop: a quarter lease before it ends. */
  private stopDeadline(askedAt: number): number {
    return askedAt + Math.floor((this.options.leaseMs * 3) / 4);
  }

  /** (Re)sets the deadline by which the lease, renewed at `askedAt`, must be renewed again. */
  private arm(channelId: string, entry: Running, askedAt: number): void {
    clearTimeout(entry.watchdog);
    const stopAt = this.stopDeadline(askedAt);
    entry.watchdog = setTimeout(
      () => {
        if (this.running.get(channelId) !== entry) return;
        this.options.log.warn(
          { channel: channelId },
          "polling lease could not be renewed, polling stopped",
        );
        // Not queued: the queue may be the thing that is stuck on the database.
        void this.stopPoller(channelId, { release: false });
      },
      Math.max(0, stopAt - Date.now()),
    );
    entry.watchdog.unref();
  }

  private async stopPoller(channelId: string, { release }: { release: boolean }): Promise<void> {
    const entry = this.running.get(channelId);
    if (!entry) {
      await this.stopping.get(channelId);
      return;
    }
    this.running.delete(channelId);
    clearTimeout(entry.watchdog);
    const done = entry.poller
      .stop()
      .then(async () => {
        // After the poller stored its offset, so the next reader starts from it.
        if (release) await this.options.channels.releasePollLease(channelId, this.owner);
      })
      .catch((err: unknown) => {
        this.options.log.warn(
          { channel: channelId, error: describeError(err) },
          "releasing polling lease failed",
        );
      })
      .finally(() => {
        if (this.stopping.get(channelId) === done) this.stopping.delete(channelId);
      });
    this.stopping.set(channelId, done);
    await done;
  }
}
