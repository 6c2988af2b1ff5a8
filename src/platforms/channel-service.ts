import type { Logger } from "pino";
import type { Config } from "../config.js";
import { newSecretToken } from "../domain/ids.js";
import type { Channel } from "../domain/types.js";
import { AppError, PlatformError } from "../errors.js";
import type { ChannelStore } from "../store/store.js";
import { describeError } from "./redact.js";
import type { TelegramClient } from "./telegram/telegram-client.js";
import { telegramWebhookPath } from "./telegram/webhook-routes.js";

/**
 * Long polling of polling-mode channels. Which process polls a channel is settled by a lease in
 * the database; these calls only save the other processes a wait for their next round.
 */
export interface Polling {
  /** A channel created here: try for its lease at once and poll it if this process wins. */
  start(channel: Channel): void;
  /** A channel removed here: stop polling it now if this process does. */
  stop(channelId: string): Promise<void>;
}

export interface ChannelServiceDeps {
  config: Readonly<Config>;
  channels: ChannelStore;
  telegram: (token: string) => TelegramClient;
  polling: Polling;
  log: Logger;
}

/** Connecting and disconnecting platform accounts. Tokens go into the store and nowhere else. */
export class ChannelService {
  constructor(private readonly deps: ChannelServiceDeps) {}

  /**
   * Checks the token with `getMe`, stores the channel (409 when the bot is connected already,
   * before anything is changed at Telegram), then points the bot's updates at us: a webhook
   * under PUBLIC_URL, or long polling when there is none.
   */
  async connectTelegram(ownerId: number, botToken: string): Promise<Channel> {
    const client = this.deps.telegram(botToken);
    const me = await client.getMe().catch((err: unknown) => {
      if (err instanceof PlatformError && !err.retryable) {
        throw new AppError("invalid_bot_token", 400, "Telegram did not accept the bot token");
      }
      throw err;
    });
    const publicUrl = this.deps.config.publicUrl;
    const secretToken = newSecretToken();
    const channel = await this.deps.channels.create({
      ownerId,
      platform: "telegram",
      name: me.username ? `@${me.username}` : me.first_name,
      externalId: String(me.id),
      credentials: { botToken, secretToken },
      mode: publicUrl ? "webhook" : "polling",
    });
    if (publicUrl) {
      try {
        await client.setWebhook(`${publicUrl}${telegramWebhookPath(channel.id)}`, secretToken);
      } catch (err) {
        await this.deps.channels.remove(ownerId, channel.id);
        throw err;
      }
    } else {
      this.deps.polling.start(channel);
    }
    this.deps.log.info({ channel: channel.id, mode: channel.mode }, "telegram channel connected");
    return channel;
  }

  async connectInstagram(
    ownerId: number,
    input: { accountId: string; accessToken: string; name?: string },
  ): Promise<Channel> {
    const channel = await this.deps.channels.create({
      ownerId,
      platform: "instagram",
      name: input.name ?? input.accountId,
      externalId: input.accountId,
      credentials: { accessToken: input.accessToken },
      mode: "webhook",
    });
    this.deps.log.info({ channel: channel.id }, "instagram channel connected");
    return channel;
  }

  list(ownerId: number): Promise<Channel[]> {
    return this.deps.channels.listByOwner(ownerId);
  }

  /**
   * Removes the channel (false when it is not the owner's) and stops its updates. Telegram's
   * side is best effort: the channel is gone for us whatever Telegram answers.
   */
  async disconnect(ownerId: number, id: string): Promise<boolean> {
    const channel = await this.deps.channels.findById(id);
    if (!channel || channel.ownerId !== ownerId) return false;
    if (!(await this.deps.channels.remove(ownerId, id))) return false;
    if (channel.platform === "telegram") {
      await this.deps.polling.stop(id);
      const token = channel.credentials.botToken;
      if (channel.mode === "webhook" && token) {
        await this.deps
          .telegram(token)
          .deleteWebhook()
          .catch((err: unknown) => {
            this.deps.log.warn({ channel: id, error: describeError(err) }, "deleteWebhook failed");
          });
      }
    }
    this.deps.log.info({ channel: id }, "channel disconnected");
    return true;
  }
}
