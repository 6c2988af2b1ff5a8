import { z } from "zod";
import { describeInstagramMessage } from "../platform-content.js";

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
      attachments: z.array(z.looseObject({ type: z.string() })).optional(),
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
  const types = (message.attachments ?? []).map((a) => a.type);
  if (message.is_unsupported && types.length === 0) types.push("unsupported_type");
  return {
    kind: "message",
    message: {
      senderId: event.sender.id,
      accountId: event.recipient.id,
      mid: message.mid,
      content: describeInstagramMessage(message.text, types),
      sentAt: epochMs(event.timestamp),
    },
  };
}

/** Meta sends milliseconds; a value in seconds (older payloads) is scaled. */
const epochMs = (t: number | undefined): number | undefined =>
  t === undefined ? undefined : t < 1e12 ? t * 1000 : t;
