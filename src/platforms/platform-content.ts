import { NO_ATTACHMENT_FIELDS } from "../domain/attachment-fields.js";
import { KIND_LABELS } from "../domain/kind-labels.js";
import type { AttachmentKind, InboundAttachment, PlatformFileRef } from "../domain/types.js";
import type { TelegramMessage } from "./telegram/inbound.js";

// What a customer sent, as section 3 words it: `content` is the text or the caption exactly as
// written; media without a caption carries a short bracketed label of its kind, so a client
// that ignores `attachments` still shows something. The media itself becomes attachments.

export interface MappedContent {
  content: string;
  attachments: InboundAttachment[];
}

const telegramRef = (fileId: string): PlatformFileRef => ({ platform: "telegram", fileId });

/** Telegram's optional numbers and strings as the attachment's nullable fields. */
const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

/** The one attachment of a Telegram message, if it carries media, a location or a contact. */
function telegramAttachment(m: TelegramMessage): InboundAttachment | undefined {
  const file = (kind: AttachmentKind, f: TelegramFileFields, mimeType: string | null) => ({
    ...NO_ATTACHMENT_FIELDS,
    kind,
    ref: telegramRef(f.file_id),
    mimeType: f.mime_type ?? mimeType,
    fileName: orNull(f.file_name),
    size: orNull(f.file_size),
    width: orNull(f.width),
    height: orNull(f.height),
    duration: orNull(f.duration),
  });
  if (m.photo && m.photo.length > 0) {
    // Sizes come smallest first; the largest is the one worth keeping.
    const largest = m.photo.reduce((best, size) =>
      (size.width ?? 0) * (size.height ?? 0) >= (best.width ?? 0) * (best.height ?? 0)
        ? size
        : best,
    );
    return file("photo", largest, "image/jpeg");
  }
  // An animation message also carries `document` (for old clients): check it first.
  if (m.animation) return file("animation", m.animation, null);
  if (m.video) return file("video", m.video, null);
  if (m.video_note) {
    const { length, ...rest } = m.video_note;
    return file("video_note", { ...rest, width: length, height: length }, "video/mp4");
  }
  if (m.voice) return file("voice", m.voice, "audio/ogg");
  if (m.audio) return file("audio", m.audio, null);
  if (m.document) return file("document", m.document, null);
  if (m.sticker) {
    const s = m.sticker;
    const type = s.is_animated
      ? "application/x-tgsticker"
      : s.is_video
        ? "video/webm"
        : "image/webp";
    return file("sticker", s, type);
  }
  // A venue also carries `location`: check it first.
  if (m.venue) {
    const v = m.venue;
    return {
      ...NO_ATTACHMENT_FIELDS,
      kind: "location",
      ref: null,
      latitude: v.location.latitude,
      longitude: v.location.longitude,
      title: v.title,
      address: v.address,
    };
  }
  if (m.location) {
    return {
      ...NO_ATTACHMENT_FIELDS,
      kind: "location",
      ref: null,
      latitude: m.location.latitude,
      longitude: m.location.longitude,
    };
  }
  if (m.contact) {
    const c = m.contact;
    return {
      ...NO_ATTACHMENT_FIELDS,
      kind: "contact",
      ref: null,
      phoneNumber: c.phone_number,
      firstName: c.first_name,
      lastName: orNull(c.last_name),
    };
  }
  return undefined;
}

/** The file fields Telegram may give for any media kind. */
interface TelegramFileFields {
  file_id: string;
  file_size?: number;
  file_name?: string;
  mime_type?: string;
  width?: number;
  height?: number;
  duration?: number;
}

const hasText = (text: string | undefined): text is string =>
  text !== undefined && text.trim() !== "";

const bracket = (kind: string, detail: string): string =>
  detail.trim() ? `[${kind} ${detail.trim()}]` : `[${kind}]`;

export function telegramContent(m: TelegramMessage): MappedContent {
  if (hasText(m.text)) return { content: m.text, attachments: [] };
  const attachment = telegramAttachment(m);
  if (attachment) {
    const content = hasText(m.caption) ? m.caption : KIND_LABELS[attachment.kind];
    return { content, attachments: [attachment] };
  }
  // Not media of section 7b: named in text, so nothing a customer sends is dropped silently.
  if (m.poll) return { content: bracket("poll", m.poll.question), attachments: [] };
  if (m.dice)
    return { content: bracket("dice", `${m.dice.emoji} ${m.dice.value}`), attachments: [] };
  return { content: hasText(m.caption) ? m.caption : "[unsupported message]", attachments: [] };
}

// Instagram attachment types that are files we keep, by the kind they become.
const INSTAGRAM_FILE_KINDS: Readonly<Record<string, AttachmentKind>> = {
  image: "photo",
  video: "video",
  audio: "audio",
  file: "document",
};

// Shares and the like are links to Instagram content, not files: named in text only.
const INSTAGRAM_OTHER_LABELS: Readonly<Record<string, string>> = {
  share: "[share]",
  story_mention: "[story mention]",
  reel: "[reel]",
  ig_reel: "[reel]",
  ig_post: "[post]",
  animated_image_share: "[gif]",
  template: "[template]",
  fallback: "[link]",
  unsupported_type: "[unsupported attachment]",
};

export interface InstagramAttachmentInput {
  type: string;
  url: string | undefined;
}

/** Text as written (labels only without it); `image`/`video`/`audio`/`file` become files. */
export function instagramContent(
  text: string | undefined,
  items: readonly InstagramAttachmentInput[],
): MappedContent {
  const attachments: InboundAttachment[] = [];
  const labels: string[] = [];
  for (const item of items) {
    const kind = INSTAGRAM_FILE_KINDS[item.type];
    if (kind !== undefined) {
      // Without a URL there is nothing to fetch: the label still says what was sent.
      if (item.url !== undefined) {
        attachments.push({
          ...NO_ATTACHMENT_FIELDS,
          kind,
          ref: { platform: "instagram", url: item.url },
        });
      }
      labels.push(KIND_LABELS[kind]);
    } else {
      labels.push(INSTAGRAM_OTHER_LABELS[item.type] ?? "[attachment]");
    }
  }
  if (hasText(text)) return { content: text, attachments };
  return { content: labels.join(" ") || "[unsupported message]", attachments };
}
