import type { Logger } from "pino";
import type { Channel, Message, PlatformFileRef } from "../domain/types.js";
import { PlatformError } from "../errors.js";
import { describeError } from "../platforms/redact.js";
import type { AttachmentRecord, AttachmentStore, ChannelStore } from "../store/store.js";
import { type FileStore, FileTooLargeError } from "./file-store.js";
import { sniffStored } from "./sniff.js";

/** Streams a file from the platform that holds it; throws `PlatformError`. */
export type OpenPlatformFile = (
  channel: Channel,
  ref: PlatformFileRef,
) => Promise<NodeJS.ReadableStream>;

/** A customer's file larger than this is not kept (Telegram bots get at most 20 MB anyway). */
export const MAX_FETCH_BYTES = 100 * 1024 * 1024;

export type FetchOutcome = "stored" | "unavailable";

export interface MediaFetcherDeps {
  attachments: AttachmentStore;
  channels: ChannelStore;
  files: FileStore;
  open: OpenPlatformFile;
  /** Pushes the message whose attachment changed (`message_updated`). */
  notify: (message: Message) => Promise<void>;
  log: Logger;
}

/**
 * Moves one inbound file from its platform into the file store. Used by the download job and
 * by the serving route, which fetches a file on demand when a link is opened before the job
 * got to it: the link works as soon as the frame is out. Both may fetch the same file (even in
 * two processes); the bytes land under the same key and the state changes once.
 */
export class MediaFetcher {
  private readonly inFlight = new Map<string, Promise<FetchOutcome>>();

  constructor(private readonly deps: MediaFetcherDeps) {}

  /**
   * `stored` or `unavailable` (refused for good: too big, link expired, channel removed);
   * throws a retryable `PlatformError` when a later try may succeed.
   */
  fetch(record: AttachmentRecord): Promise<FetchOutcome> {
    const id = record.attachment.id;
    const running = this.inFlight.get(id);
    if (running) return running;
    const task = this.run(record).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, task);
    return task;
  }

  /** Gives the file up: no link from now on. */
  async giveUp(id: string, reason: string): Promise<void> {
    this.deps.log.warn({ attachment: id, reason }, "media download given up");
    const message = await this.deps.attachments.markUnavailable(id);
    if (message) await this.deps.notify(message);
  }

  private async run(record: AttachmentRecord): Promise<FetchOutcome> {
    const { attachments, channels, files } = this.deps;
    const id = record.attachment.id;
    const channel =
      record.channelId === null ? undefined : await channels.findById(record.channelId);
    if (!channel || record.ref === null) {
      await this.giveUp(id, "the channel was removed");
      return "unavailable";
    }
    let size: number;
    try {
      const stream = await this.deps.open(channel, record.ref);
      ({ size } = await files.put(id, stream, { maxBytes: MAX_FETCH_BYTES }));
    } catch (err) {
      // Refused for good (too big, or a final platform answer): the message keeps no link.
      if (err instanceof FileTooLargeError || (err instanceof PlatformError && !err.retryable)) {
        await this.giveUp(id, err.message);
        return "unavailable";
      }
      if (err instanceof PlatformError) throw err;
      const token = channel.credentials.botToken;
      throw new PlatformError("The download failed", true, undefined, {
        cause: describeError(err, token, channel.credentials.accessToken),
      });
    }
    const sniffed = await sniffStored(files, id, size);
    const message = await attachments.markStored(id, { size, mimeType: sniffed.mimeType });
    if (message) await this.deps.notify(message);
    return "stored";
  }
}
