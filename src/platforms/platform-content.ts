import type { TelegramMessage } from "./telegram/inbound.js";

// What a customer sent, as the text agents read. Media cannot be shown in a text chat, so each
// kind is named in brackets, followed by its caption: nothing a customer sends is dropped
// silently, and an agent can ask for what they cannot see.

const withCaption = (label: string, caption: string | undefined): string =>
  caption?.trim() ? `${label} ${caption.trim()}` : label;

const bracket = (kind: string, detail?: string): string =>
  detail?.trim() ? `[${kind} ${detail.trim()}]` : `[${kind}]`;

const coordinate = (value: number): string => value.toFixed(4);

export function describeTelegramMessage(m: TelegramMessage): string {
  if (m.text !== undefined && m.text.trim() !== "") return m.text;
  const caption = m.caption;
  if (m.photo) return withCaption("[photo]", caption);
  // An animation message also carries `document` (for old clients): check it first.
  if (m.animation) return withCaption("[animation]", caption);
  if (m.video) return withCaption("[video]", caption);
  if (m.video_note) return "[video message]";
  if (m.voice) return withCaption("[voice message]", caption);
  if (m.audio) {
    const title = [m.audio.performer, m.audio.title].filter(Boolean).join(" - ");
    return withCaption(bracket("audio", title || m.audio.file_name), caption);
  }
  if (m.document) return withCaption(bracket("document", m.document.file_name), caption);
  if (m.sticker) return bracket("sticker", m.sticker.emoji);
  if (m.contact) {
    const c = m.contact;
    const name = [c.first_name, c.last_name].filter(Boolean).join(" ");
    return bracket("contact", `${name} ${c.phone_number}`);
  }
  // A venue also carries `location`: check it first.
  if (m.venue) return bracket("venue", `${m.venue.title}, ${m.venue.address}`);
  if (m.location) {
    const { latitude, longitude } = m.location;
    return bracket("location", `${coordinate(latitude)}, ${coordinate(longitude)}`);
  }
  if (m.poll) return bracket("poll", m.poll.question);
  if (m.dice) return bracket("dice", `${m.dice.emoji} ${m.dice.value}`);
  return caption?.trim() ? caption.trim() : "[unsupported message]";
}

const INSTAGRAM_KINDS: Record<string, string> = {
  image: "image",
  video: "video",
  audio: "audio",
  file: "file",
  share: "share",
  story_mention: "story mention",
  reel: "reel",
  ig_reel: "reel",
  ig_post: "post",
  animated_image_share: "gif",
  template: "template",
  fallback: "link",
  unsupported_type: "unsupported attachment",
};

/** `[image] [video] text`: one bracket per attachment, then the text if any. */
export function describeInstagramMessage(
  text: string | undefined,
  attachmentTypes: readonly string[],
): string {
  const labels = attachmentTypes.map((type) => `[${INSTAGRAM_KINDS[type] ?? "attachment"}]`);
  const body = text?.trim() ? text : "";
  const content = [...labels, body].filter(Boolean).join(" ");
  return content || "[unsupported message]";
}
