import type { AttachmentKind } from "./types.js";

// Section 3: a message whose media has no caption carries a short bracketed label of its kind,
// so a client that ignores `attachments` still shows something.

/** The label of a message whose media has no caption, by attachment kind. */
export const KIND_LABELS: Readonly<Record<AttachmentKind, string>> = {
  photo: "[photo]",
  video: "[video]",
  animation: "[animation]",
  audio: "[audio]",
  voice: "[voice message]",
  video_note: "[video message]",
  document: "[document]",
  sticker: "[sticker]",
  location: "[location]",
  contact: "[contact]",
};
