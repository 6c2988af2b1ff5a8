import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { AnswerWorker } from "./ai/answer-worker.js";
import { ModelClient } from "./ai/model-client.js";
import { buildApp, type Components, type OpsOptions } from "./app.js";
import { AccountService } from "./auth/account-service.js";
import { TokenIssuer } from "./auth/tokens.js";
import type { Bus } from "./bus/bus.js";
import { LocalBus } from "./bus/local-bus.js";
import type { Config } from "./config.js";
import { ChatService } from "./domain/chat-service.js";
import { useAttachmentLinks } from "./domain/views.js";
import { AttachmentLinks } from "./files/attachment-links.js";
import { createFileStore } from "./files/create-file-store.js";
import { AbuseLimits } from "./limits/abuse-limits.js";
import { Metrics } from "./metrics/metrics.js";
import { createPlatformRuntime, type PlatformRuntime } from "./platforms/runtime.js";
import { Close } from "./realtime/close-codes.js";
import { FrameRateLimit } from "./realtime/frame-rate-limit.js";
import { Gateway } from "./realtime/gateway.js";
import { createSqlStore } from "./store/sql/create-store.js";

export interface Server extends Components {
  app: FastifyInstance;
  metrics: Metrics;
  limits: AbuseLimits;
  /** The automatic-answer worker; undefined without AI_BASE_URL and AI_MODEL. */
  answers: AnswerWorker | undefined;
  /** Listens, then starts background work (delivery, polling, heartbeats). Returns the port. */
  listen(): Promise<number>;
  /** Stops accepting, closes sockets with 1001, finishes pending work, releases resources. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Platform adapters and the delivery worker (on by default). */
  platforms?: boolean;
}

async function createBus(config: Readonly<Config>, log: Logger): Promise<Bus> {
  if (!config.redisUrl) return new LocalBus();
  const { RedisBus } = await import("./bus/redis-bus.js");
  return RedisBus.connect(config.redisUrl, log, { channelPrefix: config.redisPrefix });
}

/** The composition root shared by `main.ts` and the tests: config in, a ready server out. */
export async function createServer(
  config: Readonly<Config>,
  log: Logger,
  options: ServerOptions = {},
): Promise<Server> {
  if (!config.jwtSecret) throw new Error("JWT_SECRET is required");
  // Read first: a wrong path fails the start before anything is opened.
  const tls = config.tls && {
    cert: readFileSync(config.tls.certFile),
    key: readFileSync(config.tls.keyFile),
  };
  const store = await createSqlStore(
    config.databaseUrl ? { databaseUrl: config.databaseUrl } : { sqlitePath: config.sqlitePath },
    log,
  );
  await store.migrate();
  const bus = await createBus(config, log);
  const files = createFileStore(config.files);
  const links = new AttachmentLinks(config.jwtSecret, config.files.linkTtlSeconds);
  useAttachmentLinks((id) => links.path(id));
  const metrics = new Metrics();
  metrics.observe({
    outboxPending: () => store.outbox.countPending(),
    busUp: () =>
      bus.ping().then(
        () => true,
        () => false,
      ),
  });
  const limits = await AbuseLimits.create({
    limits: config.limits,
    redisUrl: config.redisUrl,
    prefix: config.redisPrefix,
    log,
  });
  let platforms: PlatformRuntime | undefined;
  let answers: AnswerWorker | undefined;
  const chat = new ChatService({
    store,
    bus,
    log,
    onOutboxQueued: () => platforms?.wakeDelivery(),
    onMediaQueued: () => platforms?.wakeMedia(),
    onStored: (message, conversation) => metrics.messageStored(message.type, conversation.source),
    ...(config.ai && { answers: { replyDelayMs: config.ai.replyDelayMs } }),
    onAnswerScheduled: () => answers?.wake(),
  });
  const tokens = new TokenIssuer(config.jwtSecret, {
    access: config.accessTokenTtl,
    refresh: config.refreshTokenTtl,
  });
  const accounts = new AccountService(store, tokens, config.allowRegistration);
  const gateway = new Gateway({
    bus,
    store,
    log,
    groupLingerMs: config.wsGroupLingerMs,
    onFanout: (committedAt) => metrics.fanoutWritten(committedAt),
  });
  if (options.platforms !== false) {
    platforms = createPlatformRuntime({ config, store, chat, log, metrics, files, links });
  }
  if (config.ai) {
    const aiLog = log.child({ component: "answers" });
    answers = new AnswerWorker({
      store,
      chat,
      config: config.ai,
      log: aiLog,
      metrics,
      model: new ModelClient(config.ai, {
        onRetry: (error, attempt) =>
          aiLog.info({ reason: error.message, attempt }, "model request failed, will retry"),
      }),
      showTyping: (conversation) => platforms?.showTyping(conversation) ?? Promise.resolve(),
    });
  }
  const components: Components = {
    store,
    bus,
    chat,
    accounts,
    gateway,
    platforms,
    files,
    links,
  };
  let draining = false;
  const ops: OpsOptions = {
    ...(tls ? { tls } : {}),
    ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
    ...(config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : {}),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
    maxBufferedBytes: config.limits.wsMaxBufferedBytes,
  };
  const app = await buildApp({
    ...components,
    log,
    rateLimit: new FrameRateLimit(config.wsRateLimit),
    isDraining: () => draining,
    metrics,
    limits,
    ops,
    answersAvailable: config.ai !== undefined,
    maxUploadBytes: config.files.maxUploadBytes,
  });
  let heartbeat: NodeJS.Timeout | undefined;

  return {
    ...components,
    app,
    metrics,
    limits,
    answers,
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      heartbeat = setInterval(() => gateway.heartbeat(), config.wsPingIntervalMs);
      heartbeat.unref();
      await platforms?.start();
      answers?.start();
      const address = app.server.address();
      return typeof address === "object" && address ? address.port : config.port;
    },
    async stop() {
      draining = true;
      clearInterval(heartbeat);
      // Stop accepting first; then tell clients to move on; then finish what was started.
      app.server.close();
      gateway.closeAll(Close.GoingAway);
      // Answers first: one finished while stopping still queues its delivery below.
      await answers?.stop();
      await platforms?.stop();
      await app.close();
      await limits.close();
      await bus.close();
      await store.close();
    },
  };
}
