import type { Channel } from "../domain/types.js";
import { PlatformError } from "../errors.js";
import type { InstagramClient } from "../platforms/instagram/instagram-client.js";
import type { TelegramClient } from "../platforms/telegram/telegram-client.js";
import type { OutboxJob } from "../store/store.js";

/** Performs one send; throws `PlatformError` (retryable or not) when the platform says no. */
export type SendToPlatform = (channel: Channel, job: OutboxJob) => Promise<void>;

export interface PlatformClients {
  telegram: (channel: Channel) => TelegramClient;
  instagram: InstagramClient;
}

export function platformSender(clients: PlatformClients): SendToPlatform {
  const send = platformSend(clients);
  // A send that timed out may have reached the customer. Repeating it could deliver the reply
  // twice, so it ends here with a text that tells the agent to check before resending.
  return async (channel, job) => {
    try {
      await send(channel, job);
    } catch (err) {
      if (!(err instanceof PlatformError) || !err.outcomeUnknown) throw err;
      throw new PlatformError(
        `${err.message}; it may have been delivered, so it was not sent again`,
        false,
      );
    }
  };
}

function platformSend(clients: PlatformClients): SendToPlatform {
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
