import { z } from "zod";
import type { Channel } from "../../domain/types.js";
import type { InboundMessage } from "../../store/store.js";
import { telegramContent } from "../platform-content.js";

// Telegram updates, checked at the edge. Only the fields we read are described; everything
// else passes through untouched, so new Bot API fields never make a valid update look broken.

// Every media kind may carry these; each is optional so that an odd file still maps.
const fileSchema = z.looseObject({
  file_id: z.string(),
  file_size: z.number().int().nonnegative().optional(),
  file_name: z.string().optional(),
  mime_type: z.string().optional(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  duration: z.number().int().optional(),
});

const messageSchema = z.looseObject({
  message_id: z.number().int(),
  date: z.number().int(),
  chat: z.looseObject({ id: z.number().int(), type: z.string() }),
  from: z
    .looseObject({
      id: z.number().int(),
      is_bot: z.boolean(),
      first_name: z.string(),
      last_name: z.string().optional(),
      username: z.string().optional(),
    })
    .optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.array(fileSchema).optional(),
  video: fileSchema.optional(),
  video_note: fileSchema.extend({ length: z.number().int().optional() }).optional(),
  animation: fileSchema.optional(),
  voice: fileSchema.optional(),
  audio: fileSchema
    .extend({ title: z.string().optional(), performer: z.string().optional() })
    .optional(),
  document: fileSchema.optional(),
  sticker: fileSchema
    .extend({
      emoji: z.string().optional(),
      is_animated: z.boolean().optional(),
      is_video: z.boolean().optional(),
    })
    .optional(),
  contact: z
    .looseObject({
      phone_number: z.string(),
      first_name: z.string(),
      last_name: z.string().optional(),
    })
    .optional(),
  location: z.looseObject({ latitude: z.number(), longitude: z.number() }).optional(),
  venue: z
    .looseObject({
      location: z.looseObject({ latitude: z.number(), longitude: z.number() }),
      title: z.string(),
      address: z.string(),
    })
    .optional(),
  poll: z.looseObject({ question: z.string() }).optional(),
  dice: z.looseObject({ emoji: z.string(), value: z.number() }).optional(),
});

const updateSchema = z.looseObject({
  update_id: z.number().int(),
  message: messageSchema.optional(),
  edited_message: messageSchema.optional(),
});

export type TelegramMessage = z.infer<typeof messageSchema>;

/** What an update asks of us. */
export type TelegramAction =
  | { kind: "message"; inbound: InboundMessage; userId: number }
  | {
      kind: "edit";
      edit: {
        channelId: string;
        customerExternalId: string;
        externalMessageId: string;
        content: string;
      };
    }
  | { kind: "ignore"; reason: string };

/** The kinds of update we ask Telegram for (webhook and long polling alike). */
export const TELEGRAM_ALLOWED_UPDATES = ["message", "edited_message"] as const;

/**
 * Maps one update to a domain command. Only private chats with a human are conversations;
 * groups, channels and bots are ignored, as is every update kind other than (edited) messages.
 */
export function mapTelegramUpdate(channel: Channel, raw: unknown): TelegramAction {
  const parsed = updateSchema.safeParse(raw);
  if (!parsed.success) return { kind: "ignore", reason: "malformed update" };
  const update = parsed.data;
  const message = update.message ?? update.edited_message;
  if (!message) return { kind: "ignore", reason: "not a message" };
  if (message.chat.type !== "private") return { kind: "ignore", reason: "not a private chat" };
  const from = message.from;
  if (!from || from.is_bot) return { kind: "ignore", reason: "not from a person" };

  const { content, attachments } = telegramContent(message);
  const customerExternalId = String(from.id);
  // message_id is unique per chat and a conversation is one chat, so it is the idempotency key.
  const externalMessageId = String(message.message_id);
  if (update.message === undefined) {
    return {
      kind: "edit",
      edit: { channelId: channel.id, customerExternalId, externalMessageId, content },
    };
  }
  return {
    kind: "message",
    userId: from.id,
    inbound: {
      channelId: channel.id,
      ownerId: channel.ownerId,
      source: "telegram",
      customerExternalId,
      firstName: from.first_name,
      lastName: from.last_name ?? "",
      username: from.username ?? null,
      externalMessageId,
      content,
      attachments,
      sentAt: message.date * 1000,
    },
  };
}
