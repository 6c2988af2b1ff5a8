import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ChannelListItem, ChannelView } from "../../client/wire.js";
import { ID_PATTERN } from "../domain/ids.js";
import type { Channel } from "../domain/types.js";
import { isoTime } from "../domain/views.js";
import { NotFoundError } from "../errors.js";
import type { RequireUser } from "../http/authenticate.js";
import { currentUser } from "../http/authenticate.js";
import { parseInput } from "../http/error-handler.js";
import type { ChannelService } from "./channel-service.js";
import { BOT_TOKEN_PATTERN } from "./telegram/telegram-client.js";

// Messages are fixed texts: a rejected token must never be echoed back in an error.
const createBody = z.discriminatedUnion(
  "platform",
  [
    z.object({
      platform: z.literal("telegram"),
      bot_token: z
        .string({ error: "bot_token is required" })
        .trim()
        .regex(BOT_TOKEN_PATTERN, { error: "bot_token is not a Telegram bot token" }),
    }),
    z.object({
      platform: z.literal("instagram"),
      account_id: z
        .union([z.string().trim(), z.number().int().nonnegative()], {
          error: "account_id is required",
        })
        .transform(String)
        .refine((id) => /^\d{1,32}$/.test(id), { error: "account_id must be a numeric id" }),
      access_token: z
        .string({ error: "access_token is required" })
        .trim()
        .regex(/^[A-Za-z0-9_.|-]{10,2048}$/, { error: "access_token is not an access token" }),
      name: z.string().trim().min(1).max(100).optional(),
    }),
  ],
  { error: 'platform must be "telegram" or "instagram"' },
);

/** The public face of a channel: no credentials, ever. */
const channelView = (c: Channel): ChannelListItem => ({
  id: c.id,
  platform: c.platform,
  name: c.name,
  mode: c.mode,
  created_at: isoTime(c.createdAt),
});

export function registerChannelRoutes(
  app: FastifyInstance,
  deps: { service: ChannelService; requireUser: RequireUser },
): void {
  const { service } = deps;
  const auth = { preHandler: deps.requireUser };

  app.post("/api/channels/", auth, async (request, reply) => {
    const user = currentUser(request);
    const body = parseInput(createBody, request.body);
    const channel =
      body.platform === "telegram"
        ? await service.connectTelegram(user.id, body.bot_token)
        : await service.connectInstagram(user.id, {
            accountId: body.account_id,
            accessToken: body.access_token,
            name: body.name,
          });
    const created: ChannelView = { id: channel.id, platform: channel.platform, name: channel.name };
    return reply.code(201).send(created);
  });

  app.get("/api/channels/", auth, async (request) => {
    const channels = await service.list(currentUser(request).id);
    return channels.map(channelView);
  });

  app.delete<{ Params: { id: string } }>("/api/channels/:id/", auth, async (request, reply) => {
    const { id } = request.params;
    const removed = ID_PATTERN.test(id) && (await service.disconnect(currentUser(request).id, id));
    if (!removed) throw new NotFoundError("Channel not found");
    return reply.code(204).send();
  });
}
