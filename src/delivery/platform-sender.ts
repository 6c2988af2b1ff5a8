import type { Channel } from "../domain/types.js";
import { PlatformError } from "../errors.js";
import type { InstagramClient } from "../platforms/instagram/instagram-client.js";
import type { TelegramClient } from "../platforms/telegram/telegram-client.js";
import type { OutboxJob } from "../store/store.js";

/** Performs one send; throws `PlatformError` (retryable or not) when the platform says no. */
export type SendToPlatform = (channel: Channel, job: OutboxJob) => Promise<void>;

export function platformSender(clients: {
  telegram: (channel: Channel) => TelegramClient;
  instagram: InstagramClient;
}): SendToPlatform {
  return async (channel, job) => {
    switch (channel.platform) {
      case "telegram":
        return clients.telegram(channel).sendMessage(job.recipientExternalId, job.content);
      case "instagram": {
        const token = channel.credentials.accessToken;
        if (!token) throw new PlatformError("The Instagram channel has no access token", false);
        return clients.instagram.sendMessage(
          channel.externalId,
          token,
          job.recipientExternalId,
          job.content,
        );
      }
    }
  };
}
