import { fileSize } from "../lib/file-size.js";
import type { AttachmentView } from "../sdk.js";
import { ImageAttachment } from "./image-viewer.js";

const KIND_LABEL: Record<AttachmentView["kind"], string> = {
  photo: "Photo",
  video: "Video",
  animation: "Animation",
  audio: "Audio",
  voice: "Voice message",
  video_note: "Video message",
  document: "File",
  sticker: "Sticker",
  location: "Location",
  contact: "Contact",
};

function size(bytes: number | null): string {
  return bytes === null ? "" : ` (${fileSize(bytes)})`;
}

/** Media of a message (protocol.md 7b): pictures shown, sound and video playable, files as links. */
export function AttachmentItem({ attachment }: { attachment: AttachmentView }) {
  const { kind, url } = attachment;
  const label = KIND_LABEL[kind];
  if (kind === "location" && attachment.latitude != null && attachment.longitude != null) {
    const map = `https://www.openstreetmap.org/?mlat=${attachment.latitude}&mlon=${attachment.longitude}#map=16/${attachment.latitude}/${attachment.longitude}`;
    return (
      <a class="attachment-file" href={map} target="_blank" rel="noreferrer">
        {attachment.title ?? "Location"}
        {attachment.address ? `, ${attachment.address}` : ""}
      </a>
    );
  }
  if (kind === "contact") {
    const name = `${attachment.first_name ?? ""} ${attachment.last_name ?? ""}`.trim();
    return (
      <span class="attachment-file">
        Contact: {name} {attachment.phone_number ?? ""}
      </span>
    );
  }
  if (!url) {
    // The platform would not hand the file over (too big for a bot, say): say so plainly.
    const what = attachment.file_name ? `${label} "${attachment.file_name}"` : label;
    return <span class="attachment-missing">{what}: the file could not be fetched</span>;
  }
  if (kind === "photo" || kind === "sticker" || kind === "animation") {
    if (attachment.mime_type?.startsWith("video/")) {
      return <video class="attachment-media" src={url} controls muted loop aria-label={label} />;
    }
    return <ImageAttachment attachment={attachment} url={url} label={label} />;
  }
  if (kind === "video" || kind === "video_note") {
    return (
      // biome-ignore lint/a11y/useMediaCaption: customers' recordings come with no caption track
      <video class="attachment-media" src={url} controls preload="metadata" aria-label={label} />
    );
  }
  if (kind === "audio" || kind === "voice") {
    return (
      // biome-ignore lint/a11y/useMediaCaption: customers' recordings come with no caption track
      <audio class="attachment-audio" src={url} controls preload="metadata" aria-label={label} />
    );
  }
  return (
    <a class="attachment-file" href={url} download={attachment.file_name ?? true}>
      {attachment.file_name ?? label}
      {size(attachment.size)}
    </a>
  );
}
