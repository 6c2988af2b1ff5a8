import type { Channel } from "../domain/types.js";
import { PlatformError } from "../errors.js";
import type { InstagramClient } from "../platforms/instagram/instagram-client.js";
import type { TelegramClient } from "../platforms/telegram/telegram-client.js";
import type { OutboxJob } from "../store/store.js";
import { type MediaSenderDeps, sendInstagramMedia, sendTelegramMedia } from "./media-sender.js";

/** Performs one send; throws `PlatformError` (retryable or not) when the platform says no. */
export type SendToPlatform = (channel: Channel, job: OutboxJob) => Promise<void>;

export interface PlatformClients {
  telegram: (channel: Channel) => TelegramClient;
  instagram: InstagramClient;
  /** What sending an agent's file needs; without it files are refused. */
  media?: MediaSenderDeps;
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
    // Set only for a job that carries a file.
    const media = job.attachments.length > 0 ? clients.media : undefined;
    if (job.attachments.length > 0 && media === undefined) {
      throw new PlatformError("Files cannot be sent from here", false);
    }
    switch (channel.platform) {
      case "telegram": {
        const client = clients.telegram(channel);
        if (media) return sendTelegramMedia(client, job, media);
        return client.sendMessage(job.recipientExternalId, job.content);
      }
      case "instagram": {
        const token = channel.credentials.accessToken;
        if (!token) throw new PlatformError("The Instagram channel has no access token", false);
        if (media) return sendInstagramMedia(clients.instagram, channel, token, job, media);
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
