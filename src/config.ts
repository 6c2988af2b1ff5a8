import { isIP } from "node:net";
import { z } from "zod";

// The only reader of the environment: parsed and validated once, then frozen and passed down.

// Case-insensitive, since Django settings are often written `True`/`False`.
const bool = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"]))
  .transform((v) => v === "true" || v === "1" || v === "yes");
const seconds = z.coerce.number().int().positive();
const optionalUrl = z
  .string()
  .url()
  .optional()
  .transform((v) => (v ? v.replace(/\/+$/, "") : undefined));

const count = z.coerce.number().int().min(0);
const list = (v: string): string[] =>
  v
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

// `https://app.example.com` (scheme, host and port only: what a browser sends as `Origin`).
const origins = z
  .string()
  .transform(list)
  .superRefine((items, ctx) => {
    for (const item of items) {
      let origin: string | undefined;
      try {
        origin = new URL(item).origin;
      } catch {
        origin = undefined;
      }
      if (origin !== item.replace(/\/+$/, "")) {
        ctx.addIssue({ code: "custom", message: `not an origin (scheme://host[:port]): ${item}` });
      }
    }
  })
  .transform((items) => items.map((item) => item.replace(/\/+$/, "")));

// Addresses or CIDR ranges, IPv4 or IPv6 (`10.0.0.0/8`, `::1`).
const proxies = z
  .string()
  .transform(list)
  .superRefine((items, ctx) => {
    for (const item of items) {
      const [address = "", bits, extra] = item.split("/");
      const family = isIP(address);
      const max = family === 6 ? 128 : 32;
      const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
      if (family === 0 || !bitsOk || extra !== undefined) {
        ctx.addIssue({ code: "custom", message: `not an address or CIDR range: ${item}` });
      }
    }
  });

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8000),
    HOST: z.string().min(1).default("0.0.0.0"),
    SQLITE_PATH: z.string().min(1).default("./data/fiko.sqlite"),
    DATABASE_URL: z.string().startsWith("postgres").optional(),
    REDIS_URL: z.string().startsWith("redis").optional(),
    JWT_SECRET: z.string().min(16, "JWT_SECRET must be at least 16 characters").optional(),
    ACCESS_TOKEN_TTL: seconds.default(3600),
    REFRESH_TOKEN_TTL: seconds.default(7 * 24 * 3600),
    ALLOW_REGISTRATION: bool.default(true),
    PUBLIC_URL: optionalUrl,
    TELEGRAM_API_ROOT: z.string().url().default("https://api.telegram.org"),
    INSTAGRAM_API_ROOT: z.string().url().default("https://graph.instagram.com"),
    INSTAGRAM_API_VERSION: z.string().default("v21.0"),
    INSTAGRAM_APP_SECRET: z.string().min(1).optional(),
    INSTAGRAM_VERIFY_TOKEN: z.string().min(1).optional(),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    WS_PING_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
    WS_RATE_LIMIT: z.coerce.number().int().min(0).default(100),
    // At most an hour: a timer longer than 2^31 - 1 ms would fire at once, over and over.
    WS_GROUP_LINGER_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
    DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
    DELIVERY_BASE_DELAY_MS: z.coerce.number().int().positive().default(1000),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
    TELEGRAM_POLL_LEASE_MS: z.coerce.number().int().min(100).default(60_000),
    REDIS_PREFIX: z.string().min(1).max(64).default("fiko:"),
    METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
    TLS_CERT_FILE: z.string().min(1).optional(),
    TLS_KEY_FILE: z.string().min(1).optional(),
    TRUST_PROXY: proxies.optional(),
    ALLOWED_ORIGINS: origins.optional(),
    MAX_SOCKETS_PER_USER: count.default(200),
    WS_CONNECT_RATE_LIMIT: count.default(600),
    WS_MAX_BUFFERED_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    SOCKET_LEASE_MS: z.coerce.number().int().min(500).default(60_000),
    SIGNIN_FAILURE_LIMIT: count.default(10),
    SIGNIN_FAILURE_WINDOW: seconds.default(15 * 60),
    REGISTRATION_RATE_LIMIT: count.default(20),
    REGISTRATION_RATE_WINDOW: seconds.default(3600),
    REST_RATE_LIMIT: count.default(600),
    AI_BASE_URL: optionalUrl,
    AI_MODEL: z.string().min(1).optional(),
    AI_API_KEY: z.string().min(1).optional(),
    AI_REPLY_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(1500),
    AI_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    AI_HISTORY_LIMIT: z.coerce.number().int().min(1).max(500).default(20),
    AI_MAX_ANSWERS_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(20),
    FILES_DIR: z.string().min(1).default("./data/files"),
    S3_BUCKET: z.string().min(1).optional(),
    S3_ENDPOINT: optionalUrl,
    S3_REGION: z.string().min(1).default("us-east-1"),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    MAX_UPLOAD_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(20 * 1024 * 1024),
    ATTACHMENT_LINK_TTL: z.coerce
      .number()
      .int()
      .min(3600)
      .default(2 * 3600),
    MEDIA_FETCH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  })
  .refine((e) => Boolean(e.TLS_CERT_FILE) === Boolean(e.TLS_KEY_FILE), {
    path: ["TLS_CERT_FILE"],
    message: "TLS_CERT_FILE and TLS_KEY_FILE must be set together",
  });

export interface Config {
  port: number;
  host: string;
  sqlitePath: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Undefined until `main` fills it from the data directory (never in production). */
  jwtSecret: string | undefined;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  allowRegistration: boolean;
  publicUrl: string | undefined;
  telegramApiRoot: string;
  instagramApiRoot: string;
  instagramApiVersion: string;
  instagramAppSecret: string | undefined;
  instagramVerifyToken: string | undefined;
  logLevel: string;
  wsPingIntervalMs: number;
  /** Frames a socket may send per 10 seconds; 0 for no limit. */
  wsRateLimit: number;
  /** How long a conversation stays subscribed after its last chat socket left (ms). */
  wsGroupLingerMs: number;
  deliveryMaxAttempts: number;
  deliveryBaseDelayMs: number;
  shutdownGraceMs: number;
  /** How long a process holds a polling Telegram channel without renewing (ms). */
  telegramPollLeaseMs: number;
  /** Put before every Redis key and channel, so several deployments can share one Redis. */
  redisPrefix: string;
  /** When set, `GET /metrics` needs it as a bearer token. */
  metricsToken: string | undefined;
  /** PEM files; both set: HTTPS and `wss://` on `port`. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Proxies whose `X-Forwarded-For` names the client (addresses or CIDR ranges). */
  trustProxy: string[] | undefined;
  /** Origins allowed besides the server's own; undefined: every origin. */
  allowedOrigins: string[] | undefined;
  limits: Limits;
  /** Automatic answers; undefined without both `AI_BASE_URL` and `AI_MODEL`. */
  ai: AiConfig | undefined;
  files: FilesConfig;
}

/** Media (section 7b): where attachment bytes live and the limits around them. */
export interface FilesConfig {
  /** The folder of the disk store (used when `s3` is undefined). */
  dir: string;
  /** An S3-compatible bucket instead of the folder, when `S3_BUCKET` is set. */
  s3:
    | {
        bucket: string;
        endpoint: string | undefined;
        region: string;
        accessKeyId: string | undefined;
        secretAccessKey: string | undefined;
      }
    | undefined;
  /** Largest agent upload, in bytes. */
  maxUploadBytes: number;
  /** How long a signed attachment link stays valid, in seconds (at least one hour). */
  linkTtlSeconds: number;
  /** Downloads of one inbound file before it is given up as unavailable. */
  fetchMaxAttempts: number;
}

/** The abuse limits of protocol.md section 9; `0` switches a limit off. */
export interface Limits {
  /** Open sockets per user, across processes when Redis is set. */
  maxSocketsPerUser: number;
  /** New sockets per user per minute. */
  wsConnectsPerMinute: number;
  /** Unsent bytes a socket may hold before it is dropped as a slow consumer. */
  wsMaxBufferedBytes: number;
  /** How long another process trusts a socket count that is no longer renewed (ms). */
  socketLeaseMs: number;
  /** Failed sign-ins per username, and apart from it per client address, per window. */
  signInFailures: number;
  signInWindowSeconds: number;
  /** Registrations per client address per window. */
  registrations: number;
  registrationWindowSeconds: number;
  /** Authenticated REST calls per user per minute. */
  restPerMinute: number;
}

export interface AiConfig {
  /** An OpenAI-compatible API root, e.g. `http://127.0.0.1:11434/v1` (no trailing slash). */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer`; never logged. Local servers often need none. */
  apiKey: string | undefined;
  /** The quiet window: how long after a customer's last message the answer is asked for. */
  replyDelayMs: number;
  /** One model request's limit; a timed-out request counts as a failed try. */
  timeoutMs: number;
  /** Messages of the conversation sent with each request, the newest ones. */
  historyLimit: number;
  /** Answers one conversation may get in an hour; past it a person takes over. */
  maxAnswersPerHour: number;
}

/** Parses an environment (process.env in production, a plain object in tests). */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  // Empty strings mean "unset", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const e = result.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    sqlitePath: e.SQLITE_PATH,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    jwtSecret: e.JWT_SECRET,
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    refreshTokenTtl: e.REFRESH_TOKEN_TTL,
    allowRegistration: e.ALLOW_REGISTRATION,
    publicUrl: e.PUBLIC_URL,
    telegramApiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, ""),
    instagramApiRoot: e.INSTAGRAM_API_ROOT.replace(/\/+$/, ""),
    instagramApiVersion: e.INSTAGRAM_API_VERSION,
    instagramAppSecret: e.INSTAGRAM_APP_SECRET,
    instagramVerifyToken: e.INSTAGRAM_VERIFY_TOKEN,
    logLevel: e.LOG_LEVEL,
    wsPingIntervalMs: e.WS_PING_INTERVAL_MS,
    wsRateLimit: e.WS_RATE_LIMIT,
    wsGroupLingerMs: e.WS_GROUP_LINGER_MS,
    deliveryMaxAttempts: e.DELIVERY_MAX_ATTEMPTS,
    deliveryBaseDelayMs: e.DELIVERY_BASE_DELAY_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    telegramPollLeaseMs: e.TELEGRAM_POLL_LEASE_MS,
    redisPrefix: e.REDIS_PREFIX,
    metricsToken: e.METRICS_TOKEN,
    tls:
      e.TLS_CERT_FILE && e.TLS_KEY_FILE
        ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE }
        : undefined,
    trustProxy: e.TRUST_PROXY && e.TRUST_PROXY.length > 0 ? e.TRUST_PROXY : undefined,
    allowedOrigins:
      e.ALLOWED_ORIGINS && e.ALLOWED_ORIGINS.length > 0 ? e.ALLOWED_ORIGINS : undefined,
    limits: Object.freeze({
      maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
      wsConnectsPerMinute: e.WS_CONNECT_RATE_LIMIT,
      wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      socketLeaseMs: e.SOCKET_LEASE_MS,
      signInFailures: e.SIGNIN_FAILURE_LIMIT,
      signInWindowSeconds: e.SIGNIN_FAILURE_WINDOW,
      registrations: e.REGISTRATION_RATE_LIMIT,
      registrationWindowSeconds: e.REGISTRATION_RATE_WINDOW,
      restPerMinute: e.REST_RATE_LIMIT,
    }),
    ai:
      e.AI_BASE_URL !== undefined && e.AI_MODEL !== undefined
        ? Object.freeze({
            baseUrl: e.AI_BASE_URL,
            model: e.AI_MODEL,
            apiKey: e.AI_API_KEY,
            replyDelayMs: e.AI_REPLY_DELAY_MS,
            timeoutMs: e.AI_TIMEOUT_MS,
            historyLimit: e.AI_HISTORY_LIMIT,
            maxAnswersPerHour: e.AI_MAX_ANSWERS_PER_HOUR,
          })
        : undefined,
    files: Object.freeze({
      dir: e.FILES_DIR,
      s3: e.S3_BUCKET
        ? Object.freeze({
            bucket: e.S3_BUCKET,
            endpoint: e.S3_ENDPOINT,
            region: e.S3_REGION,
            accessKeyId: e.S3_ACCESS_KEY_ID,
            secretAccessKey: e.S3_SECRET_ACCESS_KEY,
          })
        : undefined,
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      linkTtlSeconds: e.ATTACHMENT_LINK_TTL,
      fetchMaxAttempts: e.MEDIA_FETCH_MAX_ATTEMPTS,
    }),
  });
}
