import type { Logger } from "pino";
import type { Channel } from "../../domain/types.js";
import type { ChannelStore } from "../../store/store.js";
import { describeError } from "../redact.js";
import type { TelegramClient } from "./telegram-client.js";
import type { TelegramUpdates } from "./telegram-updates.js";

export interface TelegramPollerOptions {
  channel: Channel;
  client: TelegramClient;
  updates: TelegramUpdates;
  channels: ChannelStore;
  log: Logger;
  /** Long-poll `timeout` in seconds (Telegram holds the request open this long). */
  timeoutSeconds: number;
  /** First pause after a failure; doubles up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/**
 * Receives one bot's updates by `getUpdates` long polling, for servers without a public URL.
 * The offset is stored after each batch is ingested, so a restart neither loses nor repeats
 * updates (and a repeat would be deduplicated anyway). One poller per bot in the whole system:
 * Telegram answers 409 to a second one, so `PollSupervisor` runs it only while this process holds
 * the channel's lease, and stops it before the lease could run out.
 */
export class TelegramPoller {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private offset: number;
  private savedOffset: number;

  constructor(private readonly options: TelegramPollerOptions) {
    this.offset = options.channel.pollOffset;
    this.savedOffset = this.offset;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Aborts the long poll in flight and waits until the current batch is stored. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { channel, client, log } = this.options;
    const signal = this.abort.signal;
    let failures = 0;
    let webhookRemoved = false;
    while (!signal.aborted) {
      try {
        // getUpdates is refused while a webhook is set.
        if (!webhookRemoved) {
          await client.deleteWebhook();
          webhookRemoved = true;
        }
        const batch = await client.getUpdates(this.offset, this.options.timeoutSeconds, signal);
        for (const update of batch) {
          if (signal.aborted) break;
          await this.options.updates.handle(channel, update);
          this.offset = update.update_id + 1;
        }
        await this.saveOffset();
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        // Removed by another process: its updates have nowhere to go.
        const exists = await this.options.channels.findById(channel.id).catch(() => channel);
        if (!exists) {
          log.info({ channel: channel.id }, "channel removed, polling stopped");
          break;
        }
        failures += 1;
        const delay = Math.min(
          (this.options.retryDelayMs ?? 1000) * 2 ** (failures - 1),
          this.options.maxRetryDelayMs ?? 30_000,
        );
        log.warn(
          { channel: channel.id, error: describeError(err), retryInMs: delay },
          "telegram polling failed",
        );
        await sleep(delay, signal);
      }
    }
    // Keep what was ingested before the stop.
    await this.saveOffset().catch((err: unknown) => {
      log.warn({ channel: channel.id, error: describeError(err) }, "saving poll offset failed");
    });
  }

  private async saveOffset(): Promise<void> {
    if (this.offset === this.savedOffset) return;
    const offset = this.offset;
    await this.options.channels.setPollOffset(this.options.channel.id, offset);
    this.savedOffset = offset;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
