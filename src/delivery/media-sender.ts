import type { AttachmentKind, Channel } from "../domain/types.js";
import { PlatformError } from "../errors.js";
import type { AttachmentLinks } from "../files/attachment-links.js";
import type { FileStore } from "../files/file-store.js";
import type { InstagramClient } from "../platforms/instagram/instagram-client.js";
import type { TelegramClient, TelegramFileMethod } from "../platforms/telegram/telegram-client.js";
import type { OutboxJob } from "../store/store.js";

// Sends an agent's file (section 7b). Telegram gets the bytes as a multipart upload with the
// caption in the same request; Instagram fetches the file from our signed link, and the caption
// follows as a second text message. The outbox records each accepted request (`step`), so a
// retry after the caption failed never sends the file twice.

export interface MediaSenderDeps {
  files: FileStore;
  links: AttachmentLinks;
  publicUrl: string | undefined;
  /** Records that the first `step` requests of the job were accepted. */
  progress: (jobId: number, step: number) => Promise<void>;
}

const TELEGRAM_METHODS: Partial<Record<AttachmentKind, TelegramFileMethod>> = {
  photo: "sendPhoto",
  video: "sendVideo",
  audio: "sendAudio",
  voice: "sendVoice",
};

const INSTAGRAM_TYPES: Partial<Record<AttachmentKind, "image" | "video" | "audio">> = {
  photo: "image",
  video: "video",
  audio: "audio",
  voice: "audio",
};

export async function sendTelegramMedia(
  client: TelegramClient,
  job: OutboxJob,
  deps: MediaSenderDeps,
): Promise<void> {
  const [attachment] = job.attachments;
  if (!attachment) return;
  const body = await deps.files.get(attachment.id);
  if (body === undefined) throw new PlatformError("The file is no longer stored", false);
  const method = TELEGRAM_METHODS[attachment.kind] ?? "sendDocument";
  const name = attachment.fileName ?? `${attachment.kind}-${attachment.id}`;
  await client.sendFile(job.recipientExternalId, method, body, name, job.caption);
}

export async function sendInstagramMedia(
  client: InstagramClient,
  channel: Channel,
  accessToken: string,
  job: OutboxJob,
  deps: MediaSenderDeps,
): Promise<void> {
  const [attachment] = job.attachments;
  if (!attachment) return;
  if (!deps.publicUrl) {
    throw new PlatformError("PUBLIC_URL is not set, so Instagram cannot fetch the file", false);
  }
  if (job.step < 1) {
    const type = INSTAGRAM_TYPES[attachment.kind] ?? "file";
    const url = deps.links.url(deps.publicUrl, attachment.id);
    await client.sendAttachment(
      channel.externalId,
      accessToken,
      job.recipientExternalId,
      type,
      url,
    );
    await deps.progress(job.id, 1);
  }
  if (job.caption !== null) {
    await client.sendMessage(channel.externalId, accessToken, job.recipientExternalId, job.caption);
  }
}
