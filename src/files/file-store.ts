import { Transform, type TransformCallback } from "node:stream";
import { AppError } from "../errors.js";

// The file store port (section 7b): attachment bytes, streamed in and out, never held whole in
// memory. `disk-file-store.ts` keeps them in a folder; `s3-file-store.ts` in an S3-compatible
// bucket, which several machines need. Keys are ours (attachment ids), never a user's words.

/** Bytes `start` to `end`, both included, as in an HTTP `Range`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredFile {
  size: number;
}

export interface PutOptions {
  /** More bytes than this fail the put with `FileTooLargeError`, and nothing is kept. */
  maxBytes?: number;
}

export interface FileStore {
  /** Streams `body` in under `key`, replacing what was there; resolves once it is durable. */
  put(key: string, body: NodeJS.ReadableStream, options?: PutOptions): Promise<StoredFile>;
  /** Undefined when nothing is stored under `key`. */
  stat(key: string): Promise<StoredFile | undefined>;
  /** The bytes (all, or `range`, which must lie within the file); undefined when absent. */
  get(key: string, range?: ByteRange): Promise<NodeJS.ReadableStream | undefined>;
  /** A no-op when absent. */
  delete(key: string): Promise<void>;
}

/** A file over the size limit (`MAX_UPLOAD_BYTES`, or the download limit). */
export class FileTooLargeError extends AppError {
  constructor(readonly maxBytes: number) {
    super("too_large", 413, `The file is larger than ${maxBytes} bytes`);
  }
}

const KEY_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Keys become file names and object keys: only the id alphabet, so no path can be built. */
export function checkKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw new Error(`Invalid file key: ${JSON.stringify(key)}`);
  return key;
}

/** Passes bytes through, counting them; fails the stream past `maxBytes`. */
export class ByteCounter extends Transform {
  bytes = 0;

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new FileTooLargeError(this.maxBytes));
      return;
    }
    done(null, chunk);
  }
}

/**
 * Passes on bytes `skip` to `skip + take - 1` of what flows through: a range cut from a stream
 * whose server answered with more than was asked (some S3-compatible servers ignore a range).
 */
export class ByteSlice extends Transform {
  private seen = 0;

  constructor(
    private readonly skip: number,
    private readonly wanted: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const from = Math.max(0, this.skip - this.seen);
    const to = Math.min(chunk.length, this.skip + this.wanted - this.seen);
    this.seen += chunk.length;
    done(null, from < to ? chunk.subarray(from, to) : undefined);
  }
}
