import type { Logger } from "pino";
import type { ChatService } from "../../domain/chat-service.js";
import type { Channel } from "../../domain/types.js";
import type { IngestResult, Store } from "../../store/store.js";
import type { BackgroundTasks } from "../background.js";
import type { InstagramEvent, InstagramIncoming } from "./inbound.js";
import type { InstagramClient, InstagramProfile } from "./instagram-client.js";

/**
 * Turns the messaging events of one Instagram webhook delivery into chat commands, in order.
 * A repeated `mid` is deduplicated by the store; the profile of a new customer is fetched in
 * the background with the channel's token.
 */
export class InstagramMessages {
  constructor(
    private readonly deps: {
      chat: ChatService;
      store: Store;
      client: InstagramClient;
      background: BackgroundTasks;
      log: Logger;
    },
  ) {}

  /** `duplicate` when every message it carried was stored before (a platform retry). */
  async handle(events: InstagramEvent[]): Promise<"accepted" | "duplicate"> {
    let stored = 0;
    let repeated = 0;
    const channels = new Map<string, Channel | undefined>();
    for (const event of events) {
      if (event.kind === "ignore") {
        this.deps.log.debug({ reason: event.reason }, "instagram event ignored");
        continue;
      }
      const { accountId } = event.message;
      if (!channels.has(accountId)) {
        channels.set(
          accountId,
          await this.deps.store.channels.findByExternalId("instagram", accountId),
        );
      }
      const channel = channels.get(accountId);
      if (!channel) {
        this.deps.log.debug({ accountId }, "instagram message for an unknown account ignored");
        continue;
      }
      if (await this.ingest(channel, event.message)) repeated++;
      else stored++;
    }
    return repeated > 0 && stored === 0 ? "duplicate" : "accepted";
  }

  /** True for a duplicate. */
  private async ingest(channel: Channel, incoming: InstagramIncoming): Promise<boolean> {
    const result = await this.deps.chat.ingestCustomerMessage({
      channelId: channel.id,
      ownerId: channel.ownerId,
      source: "instagram",
      customerExternalId: incoming.senderId,
      // The webhook carries no name; the profile fetch below fills it in.
      firstName: "",
      lastName: "",
      username: null,
      externalMessageId: incoming.mid,
      content: incoming.content,
      attachments: incoming.attachments,
      sentAt: incoming.sentAt,
    });
    if (!result.duplicate && result.customerCreated) {
      this.deps.background.run("instagram profile", () =>
        this.fetchProfile(channel, incoming.senderId, result),
      );
    }
    return result.duplicate;
  }

  private async fetchProfile(channel: Channel, igsid: string, result: IngestResult) {
    const token = channel.credentials.accessToken;
    if (!token) return;
    const profile = await this.deps.client.getProfile(igsid, token);
    const customer = await this.deps.store.customers.updateProfile(
      result.message.customer.id,
      profileFields(profile),
    );
    if (customer) await this.deps.chat.notifyConversationChanged(result.conversation.id);
  }
}

/** "Jane van Doe" → first "Jane", last "van Doe"; without a name the username stands in. */
export function profileFields(profile: InstagramProfile) {
  const name = profile.name?.trim() ?? "";
  const space = name.indexOf(" ");
  const firstName = name ? (space < 0 ? name : name.slice(0, space)) : (profile.username ?? "");
  const lastName = name && space >= 0 ? name.slice(space + 1).trim() : "";
  return {
    firstName,
    lastName,
    username: profile.username ?? null,
    ...(profile.profilePic ? { profilePicture: profile.profilePic } : {}),
  };
}
