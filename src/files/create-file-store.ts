import type { FilesConfig } from "../config.js";
import { DiskFileStore } from "./disk-file-store.js";
import type { FileStore } from "./file-store.js";
import { S3FileStore } from "./s3-file-store.js";

/** The bucket when `S3_BUCKET` is set (several machines need it), else the folder. */
export function createFileStore(config: Readonly<FilesConfig>): FileStore {
  if (config.s3) return new S3FileStore(config.s3);
  return new DiskFileStore(config.dir);
}
