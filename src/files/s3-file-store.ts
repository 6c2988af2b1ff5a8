import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  ByteCounter,
  type ByteRange,
  ByteSlice,
  checkKey,
  type FileStore,
  type PutOptions,
  type StoredFile,
} from "./file-store.js";

export interface S3Options {
  bucket: string;
  /** An S3-compatible endpoint (MinIO, R2, ...); path-style addressing is used with it. */
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Put before every key, so one bucket can serve several deployments. */
  prefix?: string;
}

/**
 * Files in an S3-compatible bucket (`S3_BUCKET`), shared by every process on every machine.
 * A put spools the stream to a temporary file first: a single PutObject needs the length up
 * front, and the size limit is enforced before anything reaches the bucket.
 */
export class S3FileStore implements FileStore {
  private readonly client: S3Client;

  constructor(private readonly options: S3Options) {
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
      ...(options.accessKeyId && options.secretAccessKey
        ? {
            credentials: {
              accessKeyId: options.accessKeyId,
              secretAccessKey: options.secretAccessKey,
            },
          }
        : {}),
      // Many S3-compatible servers do not take the SDK's streamed trailing checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async put(key: string, body: NodeJS.ReadableStream, options?: PutOptions): Promise<StoredFile> {
    const objectKey = this.key(key);
    const spool = join(tmpdir(), `fiko-upload-${randomBytes(8).toString("hex")}`);
    const counter = new ByteCounter(options?.maxBytes);
    try {
      await pipeline(body, counter, createWriteStream(spool, { flags: "wx" }));
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: objectKey,
          Body: createReadStream(spool),
          ContentLength: counter.bytes,
        }),
      );
    } finally {
      await rm(spool, { force: true });
    }
    return { size: counter.bytes };
  }

  async stat(key: string): Promise<StoredFile | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<NodeJS.ReadableStream | undefined> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      const body = object.Body;
      const stream =
        body === undefined
          ? Readable.from([])
          : body instanceof Readable
            ? body
            : // Outside Node the SDK answers with a web stream; Node always gives a Readable.
              Readable.fromWeb(
                body.transformToWebStream() as Parameters<typeof Readable.fromWeb>[0],
              );
      if (!range) return stream;
      // Without Content-Range the server sent the whole object: cut the range out of it.
      const whole = object.ContentRange === undefined;
      const slice = new ByteSlice(whole ? range.start : 0, range.end - range.start + 1);
      stream.once("error", (err) => slice.destroy(err));
      return stream.pipe(slice);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }),
    );
  }

  private key(key: string): string {
    return `${this.options.prefix ?? ""}${checkKey(key)}`;
  }
}

function isMissing(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return (
    err.name === "NoSuchKey" || err.name === "NotFound" || err.$metadata.httpStatusCode === 404
  );
}
