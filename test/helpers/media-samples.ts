import { PHOTO_BYTES } from "./fake-telegram.js";

// Small files whose first bytes are those of real files of each type, so that sniffing by
// content (file-type) tells them apart as it would the real thing.

const pad = (head: Buffer, size = 600): Buffer =>
  Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length), 0x20)]);

export const SAMPLES = {
  jpeg: PHOTO_BYTES,
  /** A 1×1 PNG. */
  png: Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
    "base64",
  ),
  pdf: pad(Buffer.from("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")),
  /** A page that would run script if it were ever served as HTML. */
  html: Buffer.from(
    "<!doctype html><html><body><script>alert(document.cookie)</script></body></html>",
  ),
  mp4: pad(
    Buffer.from([
      0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0x00, 0x00, 0x02,
      0x00, 0x69, 0x73, 0x6f, 0x6d, 0x69, 0x73, 0x6f, 0x32,
    ]),
  ),
  webp: pad(
    Buffer.concat([Buffer.from("RIFF"), Buffer.from([0x50, 2, 0, 0]), Buffer.from("WEBPVP8 ")]),
  ),
  /** MPEG-1 Layer III frames. */
  mp3: Buffer.concat(
    Array.from({ length: 4 }, () => pad(Buffer.from([0xff, 0xfb, 0x90, 0x64]), 417)),
  ),
  /** An Ogg page whose stream is Opus: a voice note. */
  opus: pad(
    Buffer.concat([
      Buffer.from("OggS"),
      Buffer.from([0x00, 0x02]),
      Buffer.alloc(20, 0),
      Buffer.from([0x01, 0x13]),
      Buffer.from("OpusHead"),
      Buffer.from([0x01, 0x01, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]),
    ]),
  ),
};
