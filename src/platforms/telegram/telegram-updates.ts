import type { Logger } from "pino";
import type { ChatService } from "../../domain/chat-service.js";
import type { Channel } from "../../domain/types.js";
import type { IngestResult, Store } from "../../store/store.js";
import type { BackgroundTasks } from "../background.js";
import { mapTelegramUpdate } from "./inbound.js";
import type { TelegramClient } from "./telegram-client.js";

export interface TelegramUpdatesDeps {
  chat: ChatService;
  store: Store;
  background: BackgroundTasks;
  log: Logger;
  client: (channel: Channel) => TelegramClient;
  /** The token-free URL under which a customer's Telegram profile photo is served. */
  avatarUrl: (channel: Channel, userId: number) => string;
}

/**
 * Turns one Telegram update (from the webhook or from long polling) into a chat command. The
 * store and the chat service dedupe a repeated update; this adds nothing for a duplicate, and
 * the profile lookup of a new customer runs in the background.
 */
export class TelegramUpdates {
  constructor(private readonly deps: TelegramUpdatesDeps) {}

  /** `duplicate` when the update's message was stored before (a platform retry). */
  async handle(channel: Channel, update: unknown): Promise<"accepted" | "duplicate"> {
    const action = mapTelegramUpdate(channel, update);
    switch (action.kind) {
      case "ignore":
        this.deps.log.debug({ channel: channel.id, reason: action.reason }, "update ignored");
        return "accepted";
      case "edit":
        await this.deps.chat.editCustomerMessage(action.edit);
        return "accepted";
      case "message": {
        const result = await this.deps.chat.ingestCustomerMessage(action.inbound);
        if (!result.duplicate && result.customerCreated) {
          this.deps.background.run("telegram profile", () =>
            this.fetchProfile(channel, action.userId, result),
          );
        }
        return result.duplicate ? "duplicate" : "accepted";
      }
    }
  }

  private async fetchProfile(channel: Channel, userId: number, result: IngestResult) {
    const fileId = await this.deps.client(channel).profilePhotoFileId(userId);
    if (!fileId) return;
    const customer = await this.deps.store.customers.updateProfile(result.message.customer.id, {
      profilePicture: this.deps.avatarUrl(channel, userId),
    });
    if (customer) await this.deps.chat.notifyConversationChanged(result.conversation.id);
  }
}
