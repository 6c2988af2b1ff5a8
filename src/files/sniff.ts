import { fileTypeFromBuffer } from "file-type";
import type { AttachmentKind } from "../domain/types.js";
import type { FileStore } from "./file-store.js";

// The type of stored bytes, read from the bytes themselves: never a platform's or an
// uploader's word, so a page uploaded as "image/png" is still served as a download.

/** What file-type needs to see to tell every type it knows. */
const SNIFF_BYTES = 4100;

export const UNKNOWN_TYPE = "application/octet-stream";

export interface Sniffed {
  mimeType: string;
  /** file-type's extension (`opus` tells a voice note from other Ogg audio); empty if unknown. */
  ext: string;
}

export async function sniffStored(files: FileStore, key: string, size: number): Promise<Sniffed> {
  if (size === 0) return { mimeType: UNKNOWN_TYPE, ext: "" };
  const stream = await files.get(key, { start: 0, end: Math.min(size, SNIFF_BYTES) - 1 });
  if (stream === undefined) return { mimeType: UNKNOWN_TYPE, ext: "" };
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  const type = await fileTypeFromBuffer(Buffer.concat(chunks));
  return type ? { mimeType: type.mime, ext: type.ext } : { mimeType: UNKNOWN_TYPE, ext: "" };
}

/** Served in the page (images, video, audio); everything else is a download. */
export const servedInline = (mimeType: string): boolean => /^(image|video|audio)\//.test(mimeType);

/** An agent's upload: image → photo, video → video, Ogg Opus → voice, audio → audio. */
export function uploadKind(sniffed: Sniffed): AttachmentKind {
  if (sniffed.mimeType.startsWith("image/")) return "photo";
  if (sniffed.mimeType.startsWith("video/")) return "video";
  if (sniffed.ext === "opus") return "voice";
  if (sniffed.mimeType.startsWith("audio/")) return "audio";
  return "document";
}
