import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { OutboxWorker } from "../delivery/outbox-worker.js";
import { platformSender } from "../delivery/platform-sender.js";
import type { ChatService } from "../domain/chat-service.js";
import type { Channel, Conversation } from "../domain/types.js";
import type { AttachmentLinks } from "../files/attachment-links.js";
import type { FileStore } from "../files/file-store.js";
import { MEDIA_FETCH_TIMEOUT_MS, MediaFetchWorker } from "../files/media-fetch-worker.js";
import { MediaFetcher } from "../files/media-fetcher.js";
import type { RequireUser } from "../http/authenticate.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Store } from "../store/store.js";
import { BackgroundTasks } from "./background.js";
import { registerChannelRoutes } from "./channel-routes.js";
import { ChannelService } from "./channel-service.js";
import { InstagramClient } from "./instagram/instagram-client.js";
import { InstagramMessages } from "./instagram/instagram-messages.js";
import { instagramWebhookPlugin } from "./instagram/webhook-routes.js";
import { registerAvatarRoute, telegramAvatarUrl } from "./telegram/avatars.js";
import { PollSupervisor } from "./telegram/poll-supervisor.js";
import { TelegramPoller } from "./telegram/poller.js";
import { TelegramClient } from "./telegram/telegram-client.js";
import { TelegramUpdates } from "./telegram/telegram-updates.js";
import { registerTelegramWebhook } from "./telegram/webhook-routes.js";

export interface PlatformRuntime {
  /** Fastify plugin registering /api/channels/* and /api/webhooks/* (with and without trailing slash). */
  routes: (app: FastifyInstance, opts: { requireUser: RequireUser }) => Promise<void>;
  /**
   * Starts the delivery worker and the polling supervisor, which polls the polling channels
   * whose lease this process holds or wins.
   */
  start(): Promise<void>;
  /** Stops claiming, aborts long polls and releases their leases, waits for in-flight sends. */
  stop(): Promise<void>;
  wakeDelivery(): void;
  /** The ids of the polling channels this process reads right now. */
  polledChannels(): string[];
  /** Shows the customer that an answer is being written, where the platform can (Telegram). */
  showTyping(conversation: Conversation): Promise<void>;
  /** Fetches customers' files into the file store (the job, and on demand). */
  media: MediaFetcher;
  wakeMedia(): void;
}

export interface PlatformRuntimeDeps {
  config: Readonly<Config>;
  store: Store;
  chat: ChatService;
  log: Logger;
  metrics?: Metrics;
  files: FileStore;
  links: AttachmentLinks;
  /** Long-poll `timeout` for Telegram `getUpdates` (seconds); tests make it small. */
  pollTimeoutSeconds?: number;
  /** Polling lease length (ms); default `TELEGRAM_POLL_LEASE_MS` (60 s). */
  pollLeaseMs?: number;
  /** How often polling leases are renewed and new channels looked for (ms); default lease / 12. */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_TIMEOUT_SECONDS = 30;
// Twelve renewal rounds per lease (5 s apart with the default 60 s lease, twice the long poll): a
// process that died is replaced within a minute, and a live one never loses its lease to a slow
// round or two.
const ROUNDS_PER_LEASE = 12;

/** Everything that talks to Telegram and Instagram: routes, pollers and the delivery worker. */
export function createPlatformRuntime(deps: PlatformRuntimeDeps): PlatformRuntime {
  const { config, store, chat } = deps;
  const log = deps.log.child({ component: "platforms" });
  const background = new BackgroundTasks(log);

  const telegramClient = (token: string) =>
    new TelegramClient(token, { apiRoot: config.telegramApiRoot });
  const channelClient = (channel: Channel) => telegramClient(channel.credentials.botToken ?? "");
  const instagram = new InstagramClient({
    apiRoot: config.instagramApiRoot,
    apiVersion: config.instagramApiVersion,
  });

  const updates = new TelegramUpdates({
    chat,
    store,
    background,
    log: log.child({ platform: "telegram" }),
    client: channelClient,
    avatarUrl: (channel, userId) => telegramAvatarUrl(config.publicUrl, channel, userId),
  });
  const instagramMessages = new InstagramMessages({
    chat,
    store,
    client: instagram,
    background,
    log: log.child({ platform: "instagram" }),
  });

  const media = new MediaFetcher({
    attachments: store.attachments,
    channels: store.channels,
    files: deps.files,
    open: async (channel, ref) => {
      if (ref.platform === "instagram") return instagram.openFile(ref.url, MEDIA_FETCH_TIMEOUT_MS);
      return channelClient(channel).openFile(ref.fileId, MEDIA_FETCH_TIMEOUT_MS);
    },
    notify: (message) => chat.notifyMessageUpdated(message),
    log: log.child({ component: "media" }),
  });
  const mediaWorker = new MediaFetchWorker({
    attachments: store.attachments,
    fetcher: media,
    log: log.child({ component: "media" }),
    maxAttempts: config.files.fetchMaxAttempts,
    baseDelayMs: config.deliveryBaseDelayMs,
  });

  const worker = new OutboxWorker({
    outbox: store.outbox,
    channels: store.channels,
    send: platformSender({
      telegram: channelClient,
      instagram,
      media: {
        files: deps.files,
        links: deps.links,
        publicUrl: config.publicUrl,
        progress: (jobId, step) => store.outbox.markStep(jobId, step),
      },
    }),
    notify: (message) => chat.notifyMessageUpdated(message),
    log: log.child({ component: "delivery" }),
    maxAttempts: config.deliveryMaxAttempts,
    baseDelayMs: config.deliveryBaseDelayMs,
    onAttempt: (platform, result) => deps.metrics?.outboxSend(platform, result),
  });

  const pollLeaseMs = deps.pollLeaseMs ?? config.telegramPollLeaseMs;
  const supervisor = new PollSupervisor({
    channels: store.channels,
    log: log.child({ platform: "telegram" }),
    leaseMs: pollLeaseMs,
    intervalMs: deps.pollIntervalMs ?? Math.max(10, Math.round(pollLeaseMs / ROUNDS_PER_LEASE)),
    createPoller: (channel) =>
      new TelegramPoller({
        channel,
        client: channelClient(channel),
        updates,
        channels: store.channels,
        log: log.child({ platform: "telegram" }),
        timeoutSeconds: deps.pollTimeoutSeconds ?? DEFAULT_POLL_TIMEOUT_SECONDS,
      }),
  });
  let running = false;
  const polling = {
    start(channel: Channel) {
      if (running) supervisor.claim(channel);
    },
    stop(channelId: string) {
      return supervisor.drop(channelId);
    },
  };

  const channels = new ChannelService({
    config,
    channels: store.channels,
    telegram: telegramClient,
    polling,
    log,
  });

  return {
    async routes(app, opts) {
      registerChannelRoutes(app, { service: channels, requireUser: opts.requireUser });
      registerAvatarRoute(app, { channels: store.channels, client: channelClient, log });
      registerTelegramWebhook(app, {
        channels: store.channels,
        updates,
        outcome: (outcome) => deps.metrics?.webhook("telegram", outcome),
      });
      await app.register(
        instagramWebhookPlugin({
          appSecret: config.instagramAppSecret,
          verifyToken: config.instagramVerifyToken,
          messages: instagramMessages,
          log,
          outcome: (outcome) => deps.metrics?.webhook("instagram", outcome),
        }),
      );
    },

    async start() {
      if (running) return;
      running = true;
      worker.start();
      mediaWorker.start();
      await supervisor.start();
    },

    async stop() {
      running = false;
      await supervisor.stop();
      await worker.stop();
      await mediaWorker.stop();
      await background.drain();
    },

    wakeDelivery() {
      worker.wake();
    },

    media,

    wakeMedia() {
      mediaWorker.wake();
    },

    polledChannels() {
      return supervisor.polled();
    },

    async showTyping(conversation) {
      if (conversation.source !== "telegram" || conversation.channelId === null) return;
      const channel = await store.channels.findById(conversation.channelId);
      if (!channel?.credentials.botToken) return;
      await channelClient(channel).sendTyping(conversation.customer.externalId);
    },
  };
}
