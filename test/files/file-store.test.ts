import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { DiskFileStore } from "../../src/files/disk-file-store.js";
import { type FileStore, FileTooLargeError } from "../../src/files/file-store.js";
import { S3FileStore } from "../../src/files/s3-file-store.js";
import {
  type FakeS3,
  S3_ACCESS_KEY_ID,
  S3_BUCKET,
  S3_SECRET_ACCESS_KEY,
  startS3,
} from "../helpers/s3.js";

// One suite over both implementations of the file store port: a folder, and a real
// S3-compatible server (s3rver) on a free port.

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  assert.ok(stream, "expected a stream");
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** A stream of `size` bytes in 64 KiB chunks, never one buffer of the whole. */
function bytesStream(size: number, fill = 7): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, 64 * 1024);
      left -= n;
      this.push(Buffer.alloc(n, fill));
    },
  });
}

const key = () => `a_${randomBytes(9).toString("base64url")}`;

function storeSuite(
  name: string,
  open: () => Promise<{ store: FileStore; close(): Promise<void> }>,
) {
  describe(`file store [${name}]`, () => {
    let store: FileStore;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await open());
    });
    after(() => close());

    it("puts from a stream and gets the same bytes back, whole and by range", async () => {
      const k = key();
      const bytes = randomBytes(200_000);
      assert.deepEqual(
        await store.put(k, Readable.from([bytes.subarray(0, 70_000), bytes.subarray(70_000)])),
        {
          size: 200_000,
        },
      );
      assert.deepEqual(await store.stat(k), { size: 200_000 });
      assert.ok((await readAll(await store.get(k))).equals(bytes));
      assert.ok(
        (await readAll(await store.get(k, { start: 0, end: 0 }))).equals(bytes.subarray(0, 1)),
      );
      assert.ok(
        (await readAll(await store.get(k, { start: 1000, end: 129_999 }))).equals(
          bytes.subarray(1000, 130_000),
        ),
      );
      assert.ok(
        (await readAll(await store.get(k, { start: 199_990, end: 199_999 }))).equals(
          bytes.subarray(199_990),
        ),
      );
    });

    it("answers undefined for a key never stored, and after delete", async () => {
      const k = key();
      assert.equal(await store.stat(k), undefined);
      assert.equal(await store.get(k), undefined);
      await store.put(k, Readable.from([Buffer.from("x")]));
      await store.delete(k);
      assert.equal(await store.stat(k), undefined);
      assert.equal(await store.get(k), undefined);
      await store.delete(k);
    });

    it("replaces the bytes of a key put twice", async () => {
      const k = key();
      await store.put(k, Readable.from([Buffer.from("first version")]));
      await store.put(k, Readable.from([Buffer.from("second")]));
      assert.equal((await readAll(await store.get(k))).toString(), "second");
      assert.deepEqual(await store.stat(k), { size: 6 });
    });

    it("stores an empty file", async () => {
      const k = key();
      assert.deepEqual(await store.put(k, Readable.from([])), { size: 0 });
      assert.deepEqual(await store.stat(k), { size: 0 });
    });

    it("refuses a stream over maxBytes and keeps nothing", async () => {
      const k = key();
      await assert.rejects(store.put(k, bytesStream(300_000), { maxBytes: 200_000 }), (err) => {
        assert.ok(err instanceof FileTooLargeError);
        assert.equal(err.status, 413);
        assert.equal(err.code, "too_large");
        return true;
      });
      assert.equal(await store.stat(k), undefined);
      assert.deepEqual(await store.put(k, bytesStream(200_000), { maxBytes: 200_000 }), {
        size: 200_000,
      });
    });

    it("refuses keys outside the id alphabet", async () => {
      await assert.rejects(store.put("../escape", Readable.from([Buffer.from("x")])));
      await assert.rejects(store.stat("a/b"));
    });
  });
}

storeSuite("disk", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fiko-files-"));
  return {
    store: new DiskFileStore(join(dir, "files")),
    async close() {
      // A failed or refused put leaves no temporary file behind.
      const left = readdirSync(join(dir, "files")).filter((f) => f.startsWith(".tmp-"));
      assert.deepEqual(left, []);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

storeSuite("s3", async () => {
  const s3: FakeS3 = await startS3();
  return {
    store: new S3FileStore({
      bucket: S3_BUCKET,
      endpoint: s3.endpoint,
      region: "us-east-1",
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
    }),
    close: () => s3.close(),
  };
});
