import { z } from "zod";
import type { InboundAttachment } from "../../domain/types.js";
import { instagramContent } from "../platform-content.js";

// Instagram messaging webhooks, checked at the edge. The envelope is checked as a whole; each
// messaging event on its own, so one odd event does not hide the others in the same delivery.

const envelopeSchema = z.looseObject({
  object: z.string(),
  entry: z.array(z.looseObject({ messaging: z.array(z.unknown()).optional() })),
});

const idSchema = z.union([z.string().min(1), z.number().int()]).transform(String);

const messagingSchema = z.looseObject({
  sender: z.looseObject({ id: idSchema }),
  recipient: z.looseObject({ id: idSchema }),
  timestamp: z.number().optional(),
  message: z
    .looseObject({
      mid: z.string().min(1),
      text: z.string().optional(),
      is_echo: z.boolean().optional(),
      is_deleted: z.boolean().optional(),
      is_unsupported: z.boolean().optional(),
      attachments: z
        .array(
          z.looseObject({
            type: z.string(),
            payload: z.looseObject({ url: z.string().min(1).optional() }).nullish(),
          }),
        )
        .optional(),
    })
    .optional(),
});

/** A customer's message as the webhook tells it, before we know which channel it is for. */
export interface InstagramIncoming {
  /** The customer (Instagram-scoped id). */
  senderId: string;
  /** The business account: the channel's external id. */
  accountId: string;
  mid: string;
  content: string;
  attachments: InboundAttachment[];
  /** When the customer sent it (epoch ms), if the event says. */
  sentAt: number | undefined;
}

export type InstagramEvent =
  | { kind: "message"; message: InstagramIncoming }
  | { kind: "ignore"; reason: string };

/** Undefined when the body is not an Instagram webhook at all. */
export function instagramEvents(body: unknown): InstagramEvent[] | undefined {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success || envelope.data.object !== "instagram") return undefined;
  return envelope.data.entry.flatMap((entry) => (entry.messaging ?? []).map(mapMessaging));
}

function mapMessaging(raw: unknown): InstagramEvent {
  const parsed = messagingSchema.safeParse(raw);
  if (!parsed.success) return { kind: "ignore", reason: "malformed messaging event" };
  const event = parsed.data;
  const message = event.message;
  // Reactions, reads, postbacks and referrals carry no message.
  if (!message) return { kind: "ignore", reason: "not a message" };
  // Our own replies come back as echoes.
  if (message.is_echo) return { kind: "ignore", reason: "echo" };
  if (message.is_deleted) return { kind: "ignore", reason: "unsent message" };
  const items = (message.attachments ?? []).map((a) => ({
    type: a.type,
    url: a.payload?.url ?? undefined,
  }));
  if (message.is_unsupported && items.length === 0) {
    items.push({ type: "unsupported_type", url: undefined });
  }
  const { content, attachments } = instagramContent(message.text, items);
  return {
    kind: "message",
    message: {
      senderId: event.sender.id,
      accountId: event.recipient.id,
      mid: message.mid,
      content,
      attachments,
      sentAt: epochMs(event.timestamp),
    },
  };
}

/** Meta sends milliseconds; a value in seconds (older payloads) is scaled. */
const epochMs = (t: number | undefined): number | undefined =>
  t === undefined ? undefined : t < 1e12 ? t * 1000 : t;
