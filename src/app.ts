import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import type { WebSocketServer } from "ws";
import type { AccountService } from "./auth/account-service.js";
import type { Bus } from "./bus/bus.js";
import type { ChatService } from "./domain/chat-service.js";
import type { AttachmentLinks } from "./files/attachment-links.js";
import type { FileStore } from "./files/file-store.js";
import { aiSettingsRoutes } from "./http/ai-settings-routes.js";
import { attachmentRoutes } from "./http/attachment-routes.js";
import { authRoutes } from "./http/auth-routes.js";
import { requireUser } from "./http/authenticate.js";
import { conversationRoutes } from "./http/conversation-routes.js";
import { registerErrorHandler } from "./http/error-handler.js";
import { healthRoutes } from "./http/health-routes.js";
import { metricsRoutes } from "./http/metrics-routes.js";
import { originPolicy, registerSecurity } from "./http/security.js";
import { webRoutes } from "./http/web-routes.js";
import type { AbuseLimits } from "./limits/abuse-limits.js";
import type { Metrics } from "./metrics/metrics.js";
import type { PlatformRuntime } from "./platforms/runtime.js";
import { serveChatSocket } from "./realtime/chat-socket.js";
import type { FrameRateLimit } from "./realtime/frame-rate-limit.js";
import type { Gateway } from "./realtime/gateway.js";
import { serveListSocket } from "./realtime/list-socket.js";
import { MAX_FRAME_BYTES } from "./realtime/protocol.js";
import { SocketAdmission } from "./realtime/socket-admission.js";
import { DEFAULT_MAX_BUFFERED_BYTES } from "./realtime/socket-member.js";
import { SocketServer } from "./realtime/socket-server.js";
import type { Store } from "./store/store.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The chat and list sockets' server (its `clients` are every open socket). */
    websocketServer: WebSocketServer;
  }
}

/** The long-lived parts of a server, built by `createServer`. */
export interface Components {
  store: Store;
  bus: Bus;
  chat: ChatService;
  accounts: AccountService;
  gateway: Gateway;
  platforms: PlatformRuntime | undefined;
  /** Where attachment bytes live (section 7b). */
  files: FileStore;
  links: AttachmentLinks;
}

export interface AppDeps extends Components {
  log: Logger;
  rateLimit: FrameRateLimit;
  isDraining: () => boolean;
  metrics: Metrics;
  limits: AbuseLimits;
  ops: OpsOptions;
  /** Whether automatic answers are configured (`AI_BASE_URL` and `AI_MODEL`). */
  answersAvailable: boolean;
  /** Largest agent upload (`MAX_UPLOAD_BYTES`). */
  maxUploadBytes: number;
}

/** The operations settings of protocol.md section 9 that shape the HTTP surface. */
export interface OpsOptions {
  /** PEM contents: the server speaks HTTPS and wss:// itself. */
  tls?: { cert: Buffer; key: Buffer };
  /** Proxies (addresses, CIDR) whose X-Forwarded-For names the client. */
  trustProxy?: string[];
  allowedOrigins?: string[];
  publicUrl?: string;
  metricsToken?: string;
  maxBufferedBytes?: number;
}

/** The HTTP and WebSocket surface. Never listens by itself, so tests may `inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Typed as Fastify's base logger so that route plugins see the default instance type.
  const logger: FastifyBaseLogger = deps.log;
  const { ops } = deps;
  const app = Fastify({
    ...(ops.tls ? { https: { cert: ops.tls.cert, key: ops.tls.key } } : {}),
    // The client address of every limit (`request.ip`) comes from X-Forwarded-For only when the
    // connection comes from one of these.
    ...(ops.trustProxy ? { trustProxy: ops.trustProxy } : {}),
    loggerInstance: logger,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 1024 * 1024,
    // A `__proto__` or `constructor.prototype` key in a JSON body is dropped, like any key a
    // route does not know, instead of failing the request: Telegram would retry a refused
    // update forever, and the Instagram route's own parser drops them the same way.
    onProtoPoisoning: "remove",
    onConstructorPoisoning: "remove",
    // Let a drained process exit even while clients hold keep-alive connections.
    forceCloseConnections: true,
    // Errors Fastify raises before routing (a malformed escape in the path): answer like every
    // other 400, and never echo the URL, which may hold a token.
    frameworkErrors: (_err, _request, reply: FastifyReply) => {
      reply.status(400).send({ error: "Malformed URL", code: "invalid" });
    },
  });
  registerErrorHandler(app);
  // First, so that its hooks and headers cover every route registered after it.
  const security = {
    allowedOrigins: ops.allowedOrigins,
    publicUrl: ops.publicUrl,
    tls: ops.tls !== undefined,
  };
  await registerSecurity(app, security);
  app.decorateRequest("user", null);

  const guard = requireUser(deps.accounts, deps.limits);
  await app.register(healthRoutes, {
    store: deps.store,
    bus: deps.bus,
    isDraining: deps.isDraining,
  });
  await app.register(metricsRoutes, { metrics: deps.metrics, token: ops.metricsToken });
  await app.register(authRoutes, {
    accounts: deps.accounts,
    requireUser: guard,
    limits: deps.limits,
  });
  await app.register(conversationRoutes, {
    chat: deps.chat,
    requireUser: guard,
    upload: { files: deps.files, maxUploadBytes: deps.maxUploadBytes },
  });
  await app.register(attachmentRoutes, {
    attachments: deps.store.attachments,
    files: deps.files,
    links: deps.links,
    accounts: deps.accounts,
    fetcher: () => deps.platforms?.media,
  });
  await app.register(aiSettingsRoutes, {
    settings: deps.store.aiSettings,
    available: deps.answersAvailable,
    requireUser: guard,
  });
  if (deps.platforms) await app.register(deps.platforms.routes, { requireUser: guard });

  const socketDeps = {
    accounts: deps.accounts,
    chat: deps.chat,
    gateway: deps.gateway,
    rateLimit: deps.rateLimit,
    admission: new SocketAdmission(deps.limits),
    metrics: deps.metrics,
    memberOptions: {
      maxBufferedBytes: ops.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
      onSent: (frame: string) => deps.metrics.frameSent(frame),
    },
    log: deps.log,
  };
  // Upgrades never reach the routes below: they are taken from the HTTP server's own event.
  const sockets = new SocketServer(app.server, {
    maxPayload: MAX_FRAME_BYTES,
    originAllowed: originPolicy(security),
    handlers: {
      chat: (socket, conversationId, query) =>
        serveChatSocket(socket, conversationId, query, socketDeps),
      conversations: (socket, query) => serveListSocket(socket, query, socketDeps),
    },
    log: deps.log,
  });
  app.decorate("websocketServer", sockets.wss);
  app.addHook("preClose", (done) => {
    sockets.close();
    done();
  });
  // Last, so that its catch-all GET only sees paths no other route claimed.
  await app.register(webRoutes, {});
  return app;
}
