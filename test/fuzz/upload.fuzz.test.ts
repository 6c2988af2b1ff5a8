import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { SAMPLES } from "../helpers/media-samples.js";
import {
  ingest,
  registerUser,
  startServer,
  type TestServer,
  type TestUser,
} from "../helpers/server.js";
import { check, runs, storedState } from "./fuzz-support.js";

// Hostile multipart uploads (protocol.md section 7b): odd part names, several files, no file,
// empty and oversized files, long fields, broken boundaries, bodies cut short. Each answer is a
// 201 with the message or a 4xx with `{error, code}`, never a 5xx; a refused upload stores
// nothing and leaves no bytes behind in the file store.

const LIMIT = 2048;

interface Part {
  name: string;
  fileName: string | null;
  bytes: Buffer;
}

const partName = fc.oneof(
  fc.constantFrom("file", "content", "client_id", "files", "FILE", ""),
  fc.string({ maxLength: 20 }),
);
const partBytes = fc.oneof(
  fc.constantFrom(SAMPLES.png, SAMPLES.pdf, Buffer.alloc(0), Buffer.alloc(LIMIT + 1, 0x41)),
  fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
  fc.string({ unit: "binary", maxLength: 300 }).map((s) => Buffer.from(s)),
);
const part: fc.Arbitrary<Part> = fc.record({
  name: partName,
  fileName: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
  bytes: partBytes,
});

// A well-formed upload (caption and client_id optional, in any order around the file), so the
// run also exercises acceptance, not only refusals.
const plausible: fc.Arbitrary<Part[]> = fc
  .record({
    caption: fc.option(fc.string({ maxLength: 60 }), { nil: null }),
    clientId: fc.option(fc.uuid(), { nil: null }),
    file: fc.constantFrom(SAMPLES.png, SAMPLES.pdf, SAMPLES.mp3, SAMPLES.opus),
    fileName: fc.string({ minLength: 1, maxLength: 30 }),
    fieldsFirst: fc.boolean(),
  })
  .map(({ caption, clientId, file, fileName, fieldsFirst }) => {
    const fields: Part[] = [];
    if (caption !== null)
      fields.push({ name: "content", fileName: null, bytes: Buffer.from(caption) });
    if (clientId !== null)
      fields.push({ name: "client_id", fileName: null, bytes: Buffer.from(clientId) });
    const filePart: Part = { name: "file", fileName, bytes: file };
    return fieldsFirst ? [...fields, filePart] : [filePart, ...fields];
  });

const upload = fc.record({
  parts: fc.oneof(fc.array(part, { maxLength: 4 }), plausible),
  // How the body is spoiled, if at all.
  damage: fc.constantFrom("none", "none", "cut", "no-end", "other-boundary", "no-boundary"),
  cutAt: fc.double({ min: 0, max: 1, noNaN: true }),
});

const BOUNDARY = "fuzzBoundary7MA4YWxkTrZu0gW";

function encode(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const quote = (s: string) => s.replace(/["\r\n]/g, "_");
    const disposition =
      `form-data; name="${quote(p.name)}"` +
      (p.fileName === null ? "" : `; filename="${quote(p.fileName)}"`);
    const type = p.fileName === null ? "" : "Content-Type: application/octet-stream\r\n";
    chunks.push(
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
      p.bytes,
      Buffer.from("\r\n"),
    );
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

describe("fuzz: multipart uploads", () => {
  let server: TestServer & { dataDir: string };
  let user: TestUser;
  let conversationId: string;

  before(async () => {
    server = await startServer({ env: { MAX_UPLOAD_BYTES: String(LIMIT) } });
    user = await registerUser(server);
    conversationId = (await ingest(server, user.id, "hello")).conversation.id;
  });
  after(() => server.close());

  it("answers 201 or a clear 4xx; a refusal stores nothing and leaves no file", async () => {
    const dir = server.config.files.dir;
    let accepted = 0;
    const clientIds = new Set<string>();
    await check(
      "upload bodies",
      upload,
      async ({ parts, damage, cutAt }) => {
        const before = await storedState(server, user.id);
        const filesBefore = filesIn(dir);
        let body = encode(parts);
        if (damage === "cut") body = body.subarray(0, Math.floor(body.length * cutAt));
        if (damage === "no-end")
          body = body.subarray(0, body.length - `--${BOUNDARY}--\r\n`.length);
        const contentType =
          damage === "no-boundary"
            ? "multipart/form-data"
            : `multipart/form-data; boundary=${damage === "other-boundary" ? "elsewhere" : BOUNDARY}`;
        const res = await fetch(`${server.baseUrl}/api/conversations/${conversationId}/messages/`, {
          method: "POST",
          headers: { authorization: `Bearer ${user.access}`, "content-type": contentType },
          body,
        });
        const text = await res.text();
        const what = `${res.status} ${text.slice(0, 200)}`;
        assert.ok(res.status === 201 || (res.status >= 400 && res.status < 500), what);
        const answer = JSON.parse(text) as {
          error?: unknown;
          code?: unknown;
          attachments?: unknown;
          client_id?: string | null;
        };
        if (res.status === 201) {
          assert.equal((answer.attachments as unknown[]).length, 1, what);
          // A client_id seen before answers the stored message and keeps no second copy.
          const repeat = answer.client_id != null && clientIds.has(answer.client_id);
          if (answer.client_id != null) clientIds.add(answer.client_id);
          if (!repeat) accepted++;
          assert.equal(filesIn(dir).length, filesBefore.length + (repeat ? 0 : 1), what);
          return;
        }
        assert.equal(typeof answer.error, "string", what);
        assert.equal(typeof answer.code, "string", what);
        if (res.status === 413) assert.equal(answer.code, "too_large", what);
        assert.deepEqual(await storedState(server, user.id), before, `nothing stored: ${what}`);
        assert.deepEqual(
          filesIn(dir).filter((f) => !f.startsWith(".tmp-")),
          filesBefore.filter((f) => !f.startsWith(".tmp-")),
          `no bytes left behind: ${what}`,
        );
      },
      runs(150),
    );
    // A stored message per accepted upload, each with its file.
    const page = await server.server.store.messages.recent(conversationId, 500);
    assert.equal(page.messages.length, 1 + accepted);
    console.log(`figure: fuzz uploads accepted ${accepted} of the generated bodies`);
  });
});
