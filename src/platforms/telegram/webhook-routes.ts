import type { FastifyInstance, FastifyRequest } from "fastify";
import { ID_PATTERN } from "../../domain/ids.js";
import type { Channel } from "../../domain/types.js";
import { UnauthorizedError } from "../../errors.js";
import type { WebhookOutcome } from "../../metrics/metrics.js";
import type { ChannelStore } from "../../store/store.js";
import { secretsEqual } from "../constant-time.js";
import type { TelegramUpdates } from "./telegram-updates.js";

export const TELEGRAM_SECRET_HEADER = "x-telegram-bot-api-secret-token";

export const telegramWebhookPath = (channelId: string): string =>
  `/api/webhooks/telegram/${channelId}/`;

type WebhookRequest = FastifyRequest<{ Params: { channelId: string } }>;

/**
 * `POST /api/webhooks/telegram/{channel_id}/`. The secret is checked before the body is even
 * parsed; an unknown channel gets the same 401 as a wrong secret, so ids cannot be probed.
 * The answer goes out as soon as the update is stored: slow work runs in the background.
 */
export function registerTelegramWebhook(
  app: FastifyInstance,
  deps: {
    channels: ChannelStore;
    updates: TelegramUpdates;
    outcome?: (outcome: WebhookOutcome) => void;
  },
): void {
  const verified = new WeakMap<FastifyRequest, Channel>();
  const duplicates = new WeakSet<FastifyRequest>();

  const authenticate = async (request: WebhookRequest) => {
    const { channelId } = request.params;
    const channel = ID_PATTERN.test(channelId)
      ? await deps.channels.findById(channelId)
      : undefined;
    const expected = channel?.platform === "telegram" ? channel.credentials.secretToken : undefined;
    const given = request.headers[TELEGRAM_SECRET_HEADER];
    if (!channel || !secretsEqual(typeof given === "string" ? given : undefined, expected)) {
      throw new UnauthorizedError("Invalid webhook secret");
    }
    verified.set(request, channel);
  };

  app.post<{ Params: { channelId: string } }>(
    telegramWebhookPath(":channelId"),
    {
      // Telegram's servers call this, never a page: no CORS headers to work out per request.
      config: { cors: false },
      onRequest: authenticate,
      // Counted once the answer is known, so refusals before the handler (a bad secret, a body
      // that is not JSON) count as rejected too. Server errors are not counted: they are logged.
      // A callback hook: an async one costs a promise and a microtask turn per request.
      onResponse: (request, reply, done) => {
        const status = reply.statusCode;
        if (status < 500) {
          deps.outcome?.(
            status >= 400 ? "rejected" : duplicates.has(request) ? "duplicate" : "accepted",
          );
        }
        done();
      },
    },
    async (request, reply) => {
      const channel = verified.get(request);
      if (!channel) throw new UnauthorizedError("Invalid webhook secret");
      const outcome = await deps.updates.handle(channel, request.body);
      if (outcome === "duplicate") duplicates.add(request);
      // An empty answer: a JSON body with a `method` would be run by Telegram as a call.
      return reply.code(200).send();
    },
  );
}
