import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  ByteCounter,
  type ByteRange,
  checkKey,
  type FileStore,
  type PutOptions,
  type StoredFile,
} from "./file-store.js";

/**
 * Files in a folder (`FILES_DIR`, default `./data/files`): one file per key. A put writes a
 * temporary file and renames it into place, so a reader never sees half a file and a failed put
 * leaves nothing behind. One machine only: several need the bucket.
 */
export class DiskFileStore implements FileStore {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly dir: string) {}

  async put(key: string, body: NodeJS.ReadableStream, options?: PutOptions): Promise<StoredFile> {
    const target = this.path(key);
    await this.ensureDir();
    const temp = join(this.dir, `.tmp-${randomBytes(8).toString("hex")}`);
    const counter = new ByteCounter(options?.maxBytes);
    try {
      await pipeline(body, counter, createWriteStream(temp, { flags: "wx" }));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { size: counter.bytes };
  }

  async stat(key: string): Promise<StoredFile | undefined> {
    try {
      const info = await stat(this.path(key));
      return { size: info.size };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<NodeJS.ReadableStream | undefined> {
    const path = this.path(key);
    if ((await this.stat(key)) === undefined) return undefined;
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  private path(key: string): string {
    return join(this.dir, checkKey(key));
  }

  private ensureDir(): Promise<unknown> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    return this.ready;
  }
}

const isMissing = (err: unknown): boolean =>
  typeof err === "object" && err !== null && "code" in err && err.code === "ENOENT";
