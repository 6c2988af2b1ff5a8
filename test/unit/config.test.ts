import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config.js";

// protocol.md section 10: every variable is optional; bad values stop the start with a message.

function refuses(env: Record<string, string>, ...fragments: string[]): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /^Invalid configuration:\n {2}/);
      for (const fragment of fragments) assert.ok(err.message.includes(fragment), err.message);
      return true;
    },
  );
}

describe("loadConfig", () => {
  it("runs with no configuration at all", () => {
    assert.deepEqual(
      { ...loadConfig({}) },
      {
        port: 8000,
        host: "0.0.0.0",
        sqlitePath: "./data/fiko.sqlite",
        databaseUrl: undefined,
        redisUrl: undefined,
        jwtSecret: undefined,
        accessTokenTtl: 3600,
        refreshTokenTtl: 604800,
        allowRegistration: true,
        publicUrl: undefined,
        telegramApiRoot: "https://api.telegram.org",
        instagramApiRoot: "https://graph.instagram.com",
        instagramApiVersion: "v21.0",
        instagramAppSecret: undefined,
        instagramVerifyToken: undefined,
        logLevel: "info",
        wsPingIntervalMs: 30000,
        wsRateLimit: 100,
        wsGroupLingerMs: 10000,
        deliveryMaxAttempts: 8,
        deliveryBaseDelayMs: 1000,
        shutdownGraceMs: 10000,
        telegramPollLeaseMs: 60000,
        redisPrefix: "fiko:",
        metricsToken: undefined,
        tls: undefined,
        trustProxy: undefined,
        allowedOrigins: undefined,
        limits: {
          maxSocketsPerUser: 200,
          wsConnectsPerMinute: 600,
          wsMaxBufferedBytes: 16 * 1024 * 1024,
          socketLeaseMs: 60000,
          signInFailures: 10,
          signInWindowSeconds: 900,
          registrations: 20,
          registrationWindowSeconds: 3600,
          restPerMinute: 600,
        },
        ai: undefined,
        files: {
          dir: "./data/files",
          s3: undefined,
          maxUploadBytes: 20 * 1024 * 1024,
          linkTtlSeconds: 7200,
          fetchMaxAttempts: 8,
        },
      },
    );
  });

  it("reads the media variables (protocol.md section 7b)", () => {
    const config = loadConfig({
      FILES_DIR: "/var/lib/fiko/files",
      S3_BUCKET: "fiko-media",
      S3_ENDPOINT: "http://minio.internal:9000/",
      S3_REGION: "eu-central-1",
      S3_ACCESS_KEY_ID: "key",
      S3_SECRET_ACCESS_KEY: "secret",
      MAX_UPLOAD_BYTES: "1048576",
      ATTACHMENT_LINK_TTL: "86400",
      MEDIA_FETCH_MAX_ATTEMPTS: "3",
    });
    assert.deepEqual(config.files, {
      dir: "/var/lib/fiko/files",
      s3: {
        bucket: "fiko-media",
        endpoint: "http://minio.internal:9000",
        region: "eu-central-1",
        accessKeyId: "key",
        secretAccessKey: "secret",
      },
      maxUploadBytes: 1048576,
      linkTtlSeconds: 86400,
      fetchMaxAttempts: 3,
    });
    refuses({ ATTACHMENT_LINK_TTL: "600" }, "ATTACHMENT_LINK_TTL");
    refuses({ MAX_UPLOAD_BYTES: "0" }, "MAX_UPLOAD_BYTES");
  });

  it("reads the operations variables (protocol.md section 9)", () => {
    const config = loadConfig({
      METRICS_TOKEN: "m".repeat(24),
      TLS_CERT_FILE: "/etc/fiko/cert.pem",
      TLS_KEY_FILE: "/etc/fiko/key.pem",
      TRUST_PROXY: "10.0.0.0/8, 127.0.0.1,::1,fd00::/8",
      ALLOWED_ORIGINS: "https://app.example.com,http://localhost:5173/",
      MAX_SOCKETS_PER_USER: "0",
      WS_CONNECT_RATE_LIMIT: "30",
      WS_MAX_BUFFERED_BYTES: "65536",
      SOCKET_LEASE_MS: "5000",
      SIGNIN_FAILURE_LIMIT: "5",
      SIGNIN_FAILURE_WINDOW: "60",
      REGISTRATION_RATE_LIMIT: "3",
      REGISTRATION_RATE_WINDOW: "600",
      REST_RATE_LIMIT: "120",
      REDIS_PREFIX: "staging:",
    });
    assert.equal(config.metricsToken, "m".repeat(24));
    assert.deepEqual(config.tls, { certFile: "/etc/fiko/cert.pem", keyFile: "/etc/fiko/key.pem" });
    assert.deepEqual(config.trustProxy, ["10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8"]);
    assert.deepEqual(config.allowedOrigins, ["https://app.example.com", "http://localhost:5173"]);
    assert.equal(config.redisPrefix, "staging:");
    assert.deepEqual(
      { ...config.limits },
      {
        maxSocketsPerUser: 0,
        wsConnectsPerMinute: 30,
        wsMaxBufferedBytes: 65536,
        socketLeaseMs: 5000,
        signInFailures: 5,
        signInWindowSeconds: 60,
        registrations: 3,
        registrationWindowSeconds: 600,
        restPerMinute: 120,
      },
    );
  });

  it("refuses operations variables that do not parse", () => {
    refuses(
      { TLS_CERT_FILE: "/etc/cert.pem" },
      "TLS_CERT_FILE and TLS_KEY_FILE must be set together",
    );
    refuses({ TRUST_PROXY: "10.0.0.0/33" }, "TRUST_PROXY:", "10.0.0.0/33");
    refuses({ TRUST_PROXY: "proxy.local" }, "TRUST_PROXY:");
    refuses({ ALLOWED_ORIGINS: "https://app.example.com/inbox" }, "ALLOWED_ORIGINS:");
    refuses({ ALLOWED_ORIGINS: "app.example.com" }, "ALLOWED_ORIGINS:");
    refuses({ MAX_SOCKETS_PER_USER: "-1" }, "MAX_SOCKETS_PER_USER:");
    refuses({ WS_CONNECT_RATE_LIMIT: "lots" }, "WS_CONNECT_RATE_LIMIT:");
    refuses({ METRICS_TOKEN: "short" }, "METRICS_TOKEN:");
  });

  it("reads WS_GROUP_LINGER_MS from 0 to an hour, and refuses more", () => {
    assert.equal(loadConfig({ WS_GROUP_LINGER_MS: "0" }).wsGroupLingerMs, 0);
    assert.equal(loadConfig({ WS_GROUP_LINGER_MS: "3600000" }).wsGroupLingerMs, 3_600_000);
    refuses({ WS_GROUP_LINGER_MS: "3600001" }, "WS_GROUP_LINGER_MS:");
    refuses({ WS_GROUP_LINGER_MS: "-1" }, "WS_GROUP_LINGER_MS:");
  });

  it("makes automatic answers available only with a base URL and a model", () => {
    assert.equal(loadConfig({ AI_BASE_URL: "http://127.0.0.1:11434/v1" }).ai, undefined);
    assert.equal(loadConfig({ AI_MODEL: "llama3.2" }).ai, undefined);
    assert.deepEqual(
      { ...loadConfig({ AI_BASE_URL: "http://127.0.0.1:11434/v1/", AI_MODEL: "llama3.2" }).ai },
      {
        baseUrl: "http://127.0.0.1:11434/v1",
        model: "llama3.2",
        apiKey: undefined,
        replyDelayMs: 1500,
        timeoutMs: 30000,
        historyLimit: 20,
        maxAnswersPerHour: 20,
      },
    );
    const tuned = loadConfig({
      AI_BASE_URL: "https://api.openai.com/v1",
      AI_MODEL: "gpt-4o-mini",
      AI_API_KEY: "sk-test",
      AI_REPLY_DELAY_MS: "0",
      AI_TIMEOUT_MS: "5000",
      AI_HISTORY_LIMIT: "8",
      AI_MAX_ANSWERS_PER_HOUR: "3",
    }).ai;
    assert.equal(tuned?.apiKey, "sk-test");
    assert.equal(tuned?.replyDelayMs, 0);
    assert.equal(tuned?.timeoutMs, 5000);
    assert.equal(tuned?.historyLimit, 8);
    assert.equal(tuned?.maxAnswersPerHour, 3);
    refuses({ AI_BASE_URL: "not a url", AI_MODEL: "m" }, "AI_BASE_URL");
    refuses({ AI_REPLY_DELAY_MS: "-1" }, "AI_REPLY_DELAY_MS");
  });

  it("reads every variable of the contract", () => {
    const config = loadConfig({
      PORT: "9001",
      HOST: "127.0.0.1",
      SQLITE_PATH: "/tmp/x.sqlite",
      DATABASE_URL: "postgres://u:p@db:5432/fiko",
      REDIS_URL: "redis://cache:6379",
      JWT_SECRET: "s".repeat(32),
      ACCESS_TOKEN_TTL: "60",
      REFRESH_TOKEN_TTL: "120",
      ALLOW_REGISTRATION: "false",
      PUBLIC_URL: "https://chat.example.com",
      TELEGRAM_API_ROOT: "http://127.0.0.1:9999",
      INSTAGRAM_API_ROOT: "http://127.0.0.1:9998",
      INSTAGRAM_APP_SECRET: "app-secret",
      INSTAGRAM_VERIFY_TOKEN: "verify-me",
      LOG_LEVEL: "debug",
    });
    assert.equal(config.port, 9001);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.sqlitePath, "/tmp/x.sqlite");
    assert.equal(config.databaseUrl, "postgres://u:p@db:5432/fiko");
    assert.equal(config.redisUrl, "redis://cache:6379");
    assert.equal(config.jwtSecret, "s".repeat(32));
    assert.equal(config.accessTokenTtl, 60);
    assert.equal(config.refreshTokenTtl, 120);
    assert.equal(config.allowRegistration, false);
    assert.equal(config.publicUrl, "https://chat.example.com");
    assert.equal(config.telegramApiRoot, "http://127.0.0.1:9999");
    assert.equal(config.instagramApiRoot, "http://127.0.0.1:9998");
    assert.equal(config.instagramAppSecret, "app-secret");
    assert.equal(config.instagramVerifyToken, "verify-me");
    assert.equal(config.logLevel, "debug");
  });

  it("accepts PORT 0 (tests listen on a free port)", () => {
    assert.equal(loadConfig({ PORT: "0" }).port, 0);
  });

  for (const [value, expected] of [
    ["true", true],
    ["1", true],
    ["yes", true],
    ["false", false],
    ["0", false],
    ["no", false],
  ] as const) {
    it(`reads ALLOW_REGISTRATION=${value} as ${expected}`, () => {
      assert.equal(loadConfig({ ALLOW_REGISTRATION: value }).allowRegistration, expected);
    });
  }

  it("refuses an ALLOW_REGISTRATION that is not a boolean", () => {
    refuses({ ALLOW_REGISTRATION: "maybe" }, "ALLOW_REGISTRATION:");
  });

  it("treats empty strings as unset", () => {
    const config = loadConfig({
      PORT: "",
      JWT_SECRET: "",
      DATABASE_URL: "",
      REDIS_URL: "",
      PUBLIC_URL: "",
      ALLOW_REGISTRATION: "",
      LOG_LEVEL: "",
    });
    assert.equal(config.port, 8000);
    assert.equal(config.jwtSecret, undefined);
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.publicUrl, undefined);
    assert.equal(config.allowRegistration, true);
    assert.equal(config.logLevel, "info");
  });

  it("strips trailing slashes from base URLs", () => {
    const config = loadConfig({
      PUBLIC_URL: "https://chat.example.com/",
      TELEGRAM_API_ROOT: "http://127.0.0.1:9999//",
      INSTAGRAM_API_ROOT: "https://graph.instagram.com/",
    });
    assert.equal(config.publicUrl, "https://chat.example.com");
    assert.equal(config.telegramApiRoot, "http://127.0.0.1:9999");
    assert.equal(config.instagramApiRoot, "https://graph.instagram.com");
  });

  it("is frozen", () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  it("does not read process.env", () => {
    const before = process.env.PORT;
    process.env.PORT = "1234";
    try {
      assert.equal(loadConfig({}).port, 8000);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });

  it("refuses a short JWT_SECRET and names the rule", () => {
    refuses({ JWT_SECRET: "short" }, "JWT_SECRET: JWT_SECRET must be at least 16 characters");
    assert.equal(loadConfig({ JWT_SECRET: "x".repeat(16) }).jwtSecret, "x".repeat(16));
  });

  for (const port of ["-1", "65536", "80.5", "http"]) {
    it(`refuses PORT=${port}`, () => {
      refuses({ PORT: port }, "PORT:");
    });
  }

  for (const ttl of ["0", "-5", "1.5", "an hour"]) {
    it(`refuses ACCESS_TOKEN_TTL=${ttl} and REFRESH_TOKEN_TTL=${ttl}`, () => {
      refuses({ ACCESS_TOKEN_TTL: ttl }, "ACCESS_TOKEN_TTL:");
      refuses({ REFRESH_TOKEN_TTL: ttl }, "REFRESH_TOKEN_TTL:");
    });
  }

  it("refuses a DATABASE_URL that is not PostgreSQL and a REDIS_URL that is not Redis", () => {
    refuses({ DATABASE_URL: "mysql://db/fiko" }, "DATABASE_URL:");
    refuses({ REDIS_URL: "http://cache" }, "REDIS_URL:");
    assert.equal(
      loadConfig({ DATABASE_URL: "postgresql://db/f" }).databaseUrl,
      "postgresql://db/f",
    );
    assert.equal(loadConfig({ REDIS_URL: "rediss://cache:6380" }).redisUrl, "rediss://cache:6380");
  });

  it("refuses URLs that are not URLs", () => {
    refuses({ PUBLIC_URL: "chat.example.com" }, "PUBLIC_URL:");
    refuses({ TELEGRAM_API_ROOT: "not a url" }, "TELEGRAM_API_ROOT:");
  });

  it("refuses an unknown LOG_LEVEL", () => {
    refuses({ LOG_LEVEL: "verbose" }, "LOG_LEVEL:");
  });

  it("lists every problem at once", () => {
    refuses(
      { PORT: "x", LOG_LEVEL: "loud", JWT_SECRET: "short" },
      "PORT:",
      "LOG_LEVEL:",
      "JWT_SECRET:",
    );
  });

  it("ignores variables it does not know", () => {
    assert.equal(loadConfig({ PATH: "/usr/bin", HOME: "/root" }).port, 8000);
  });
});
