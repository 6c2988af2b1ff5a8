import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AttachmentLinks } from "../../src/files/attachment-links.js";
import { SAMPLES } from "../helpers/media-samples.js";
import {
  registerUser,
  TEST_JWT_SECRET,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import {
  connectTelegram,
  type Platforms,
  startFakes,
  startPlatformServer,
  type TelegramChannel,
} from "../platforms/support.js";
import { attachmentState, customerSendsDocument, fetchBytes } from "./support.js";

// Section 7b, serving: signed links and bearer tokens, sniffed types, inline or download,
// headers that keep an uploaded page from ever running, and byte ranges.

const CSP = "default-src 'none'; sandbox";

describe("GET /api/attachments/{id}/", () => {
  let fakes: Platforms;
  let server: TestServer;
  let owner: TestUser;
  let stranger: TestUser;
  let channel: TelegramChannel;

  before(async () => {
    fakes = await startFakes();
    server = await startPlatformServer(fakes);
    owner = await registerUser(server);
    stranger = await registerUser(server);
    channel = await connectTelegram(server, fakes, owner);
  });
  after(async () => {
    await server.close();
    await fakes.close();
  });

  async function stored(bytes: Buffer, fileName: string) {
    const sent = await customerSendsDocument(server, fakes, channel, owner, bytes, fileName);
    await attachmentState(server, sent.attachment.id, "stored");
    return sent.attachment;
  }

  it("serves an image by its signed link, inline, with the sniffed type and safe headers", async () => {
    const attachment = await stored(SAMPLES.png, "photo.txt");
    const url = attachment.url ?? "";
    const match = url.match(/^\/api\/attachments\/([\w-]+)\/\?exp=(\d+)&sig=([\w-]+)$/);
    assert.ok(match, url);
    assert.equal(match[1], attachment.id);
    // Valid at least one hour from now.
    assert.ok(Number(match[2]) * 1000 >= Date.now() + 3600_000 - 5000);
    const res = await fetchBytes(server, url);
    assert.equal(res.status, 200);
    assert.ok(res.bytes.equals(SAMPLES.png));
    // The name says text, the bytes say PNG: the bytes win.
    assert.equal(res.headers.get("content-type"), "image/png");
    assert.equal(
      res.headers.get("content-disposition"),
      `inline; filename="photo.txt"; filename*=UTF-8''photo.txt`,
    );
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("content-security-policy"), CSP);
    assert.equal(res.headers.get("accept-ranges"), "bytes");
    assert.equal(res.headers.get("content-length"), String(SAMPLES.png.length));
  });

  it("serves an HTML page and a PDF as downloads under their names", async () => {
    const page = await stored(SAMPLES.html, "invoice.html");
    const html = await fetchBytes(server, page.url ?? "");
    assert.equal(html.status, 200);
    assert.ok(html.bytes.equals(SAMPLES.html));
    assert.equal(html.headers.get("content-type"), "application/octet-stream");
    assert.equal(
      html.headers.get("content-disposition"),
      `attachment; filename="invoice.html"; filename*=UTF-8''invoice.html`,
    );
    assert.equal(html.headers.get("content-security-policy"), CSP);
    assert.equal(html.headers.get("x-content-type-options"), "nosniff");

    const doc = await stored(SAMPLES.pdf, "Счёт 3.pdf");
    const pdf = await fetchBytes(server, doc.url ?? "");
    assert.equal(pdf.headers.get("content-type"), "application/pdf");
    assert.equal(
      pdf.headers.get("content-disposition"),
      `attachment; filename="____ 3.pdf"; filename*=UTF-8''%D0%A1%D1%87%D1%91%D1%82%203.pdf`,
    );
  });

  it("answers 404 for a bad signature, an expired link, a missing one and another user", async () => {
    const attachment = await stored(SAMPLES.jpeg, "a.jpg");
    const url = attachment.url ?? "";
    const path = `/api/attachments/${attachment.id}/`;
    const tampered = url.replace(/sig=./, (s) => (s.endsWith("A") ? "sig=B" : "sig=A"));
    // Another id in the same alphabet; its last character must differ, or this is the same id.
    const last = attachment.id.endsWith("x") ? "y" : "x";
    const otherId = url.replace(attachment.id, `${attachment.id.slice(0, -1)}${last}`);
    // Signed with the server's key, but by a clock three hours ago: expired.
    const old = new AttachmentLinks(TEST_JWT_SECRET, 3600, () => Date.now() - 3 * 3600_000);
    const later = url.replace(/exp=(\d+)/, (_m, exp: string) => `exp=${Number(exp) + 3600}`);
    for (const [what, target, headers] of [
      ["tampered signature", tampered, {}],
      ["signature of another attachment", otherId, {}],
      ["expired link", old.path(attachment.id), {}],
      ["exp moved on", later, {}],
      ["no credentials", path, {}],
      ["another user's token", path, { authorization: `Bearer ${stranger.access}` }],
    ] as Array<[string, string, Record<string, string>]>) {
      const res = await fetchBytes(server, target, headers);
      assert.equal(res.status, 404, what);
      assert.deepEqual(JSON.parse(res.bytes.toString()), { error: "Not found", code: "not_found" });
    }
    // Made with the server's key and clock, the same helper's links work.
    const fresh = new AttachmentLinks(TEST_JWT_SECRET, 3600);
    assert.equal((await fetchBytes(server, fresh.path(attachment.id))).status, 200);
  });

  it("opens with the owner's bearer token and no signature", async () => {
    const attachment = await stored(SAMPLES.jpeg, "b.jpg");
    const res = await fetchBytes(server, `/api/attachments/${attachment.id}`, {
      authorization: `Bearer ${owner.access}`,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/jpeg");
    assert.ok(res.bytes.equals(SAMPLES.jpeg));
  });

  it("answers byte ranges with 206 and impossible ones with 416", async () => {
    const attachment = await stored(SAMPLES.mp4, "clip.mp4");
    const url = attachment.url ?? "";
    const size = SAMPLES.mp4.length;
    const first = await fetchBytes(server, url, { range: "bytes=0-7" });
    assert.equal(first.status, 206);
    assert.equal(first.headers.get("content-range"), `bytes 0-7/${size}`);
    assert.equal(first.headers.get("content-length"), "8");
    assert.equal(first.headers.get("content-type"), "video/mp4");
    assert.ok(first.bytes.equals(SAMPLES.mp4.subarray(0, 8)));

    const middle = await fetchBytes(server, url, { range: "bytes=100-" });
    assert.equal(middle.status, 206);
    assert.equal(middle.headers.get("content-range"), `bytes 100-${size - 1}/${size}`);
    assert.ok(middle.bytes.equals(SAMPLES.mp4.subarray(100)));

    const suffix = await fetchBytes(server, url, { range: "bytes=-10" });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers.get("content-range"), `bytes ${size - 10}-${size - 1}/${size}`);
    assert.ok(suffix.bytes.equals(SAMPLES.mp4.subarray(size - 10)));

    const past = await fetchBytes(server, url, { range: `bytes=${size}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${size}`);

    const whole = await fetchBytes(server, url, { range: "bytes=0-1,4-5" });
    assert.equal(whole.status, 200);
    assert.ok(whole.bytes.equals(SAMPLES.mp4));
  });
});
