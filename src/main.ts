import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Config, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { createServer } from "./server.js";

// A laptop with no configuration still gets stable tokens across restarts: the generated key
// is kept beside the SQLite file. Production sets JWT_SECRET.
function withJwtSecret(config: Readonly<Config>, warn: (msg: string) => void): Readonly<Config> {
  if (config.jwtSecret) return config;
  const dir = config.sqlitePath === ":memory:" ? "./data" : dirname(config.sqlitePath);
  const file = join(dir, "jwt-secret");
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString("base64url"), { mode: 0o600 });
  }
  warn(`JWT_SECRET is not set: using the generated key in ${file}. Set JWT_SECRET in production.`);
  return Object.freeze({ ...config, jwtSecret: readFileSync(file, "utf8").trim() });
}

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
  const log = createLogger(config.logLevel);
  config = withJwtSecret(config, (msg) => log.warn(msg));
  const server = await createServer(config, log);
  const port = await server.listen();
  log.info(
    {
      port,
      store: config.databaseUrl ? "postgres" : "sqlite",
      bus: config.redisUrl ? "redis" : "local",
    },
    "fiko chat ready",
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.error("shutdown took too long, exiting");
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  // A promise rejected with nobody listening is a bug in a background path (a client library's
  // reconnect, say), not a reason to drop every connected agent: log it loudly and go on. Stored
  // data is consistent either way, since every write is one transaction.
  process.on("unhandledRejection", (reason) => {
    log.error({ err: reason }, "unhandled promise rejection");
  });
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
