import { createHmac } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { ID_PATTERN } from "../../domain/ids.js";
import type { Channel } from "../../domain/types.js";
import type { ChannelStore } from "../../store/store.js";
import { secretsEqual } from "../constant-time.js";
import { describeError } from "../redact.js";
import type { TelegramClient } from "./telegram-client.js";

// Telegram serves files only under URLs that embed the bot token, so such a URL must never be
// stored or handed to a browser. Customers' profile photos are served through this route
// instead: the stored `profile_picture` is a token-free URL signed with the channel's secret,
// and the route fetches the photo from Telegram on request.

const avatarPath = (channelId: string, userId: number | string): string =>
  `/api/channels/${channelId}/avatars/${userId}`;

function signature(channel: Channel, userId: string): string {
  const key = channel.credentials.secretToken ?? "";
  return createHmac("sha256", key)
    .update(`avatar:${channel.id}:${userId}`)
    .digest("base64url")
    .slice(0, 32);
}

/** The URL stored as a Telegram customer's `profile_picture`. */
export function telegramAvatarUrl(
  publicUrl: string | undefined,
  channel: Channel,
  userId: number,
): string {
  const sig = signature(channel, String(userId));
  return `${publicUrl ?? ""}${avatarPath(channel.id, userId)}?sig=${sig}`;
}

export function registerAvatarRoute(
  app: FastifyInstance,
  deps: {
    channels: ChannelStore;
    client: (channel: Channel) => TelegramClient;
    log: Logger;
  },
): void {
  const notFound = { error: "Not found", code: "not_found" };
  app.get<{ Params: { channelId: string; userId: string }; Querystring: { sig?: string } }>(
    avatarPath(":channelId", ":userId"),
    async (request, reply) => {
      const { channelId, userId } = request.params;
      const channel =
        ID_PATTERN.test(channelId) && /^\d{1,20}$/.test(userId)
          ? await deps.channels.findById(channelId)
          : undefined;
      const valid =
        channel?.platform === "telegram" &&
        channel.credentials.secretToken !== undefined &&
        secretsEqual(request.query.sig, signature(channel, userId));
      if (!channel || !valid) return reply.code(404).send(notFound);
      try {
        const client = deps.client(channel);
        const fileId = await client.profilePhotoFileId(Number(userId));
        if (!fileId) return reply.code(404).send(notFound);
        const file = await client.downloadFile(fileId);
        // Profile photos are JPEG; never pass on a type a browser would run.
        const type = file.contentType.startsWith("image/") ? file.contentType : "image/jpeg";
        return reply
          .header("content-type", type)
          .header("x-content-type-options", "nosniff")
          .header("cache-control", "private, max-age=3600")
          .send(file.body);
      } catch (err) {
        deps.log.warn({ channel: channel.id, error: describeError(err) }, "avatar fetch failed");
        return reply.code(502).send({ error: "Could not fetch the photo", code: "platform_error" });
      }
    },
  );
}
