import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { namedStatementPool } from "./postgres-statements.js";
import type { Database } from "./schema.js";
import { startCheckpointer } from "./sqlite-checkpointer.js";
import { FastSqliteDialect } from "./sqlite-dialect.js";
import { allowDirectReads } from "./sqlite-direct.js";

export interface StoreLog {
  warn(obj: object, msg?: string): void;
}

// SQLite's built-in lower() folds ASCII only; PostgreSQL folds every letter. Replacing it with
// JavaScript's Unicode folding makes case-insensitive search behave alike on both stores.
function unicodeLower(value: unknown): unknown {
  return typeof value === "string" ? value.toLowerCase() : value;
}

export function openSqlite(path: string, log?: StoreLog): Kysely<Database> {
  const inMemory = path === ":memory:";
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const database = new BetterSqlite3(path);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL"); // safe with WAL: a crash loses no committed data
  database.pragma("foreign_keys = ON");
  database.pragma("busy_timeout = 5000");
  database.function("lower", { deterministic: true }, unicodeLower);
  const db = new Kysely<Database>({
    dialect: new FastSqliteDialect(
      database,
      inMemory ? undefined : checkpointOffThread(path, database, log),
    ),
  });
  allowDirectReads(db, database);
  return db;
}

/** Checkpoints run off the server's thread (see sqlite-checkpointer.ts); returns the stop. */
function checkpointOffThread(
  path: string,
  database: BetterSqlite3.Database,
  log: StoreLog | undefined,
): () => Promise<void> {
  database.pragma("wal_autocheckpoint = 0");
  const checkpointer = startCheckpointer(
    path,
    () => {
      if (database.open) database.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    },
    log,
  );
  return () => checkpointer.stop();
}

/** SQLite's own default, restored if the checkpoint thread fails. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

// int8 (bigint columns, COUNT) arrives as a string by default, to protect values beyond 2^53.
// Ours are epoch milliseconds and counters, well inside that range. Set per pool, so other
// pg users in the process keep the default.
const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format),
};

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function openPostgres(
  databaseUrl: string,
  schema: string | undefined,
  log: StoreLog | undefined,
): Kysely<Database> {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error("PostgreSQL schema name must match [a-z_][a-z0-9_]*");
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    types: int8AsNumber,
    // Connections stay open once made (at most the pool's 10). Closed after 10 s idle (pg's
    // default), they were made again at the next burst, and a new backend costs PostgreSQL a
    // fork, its catalog caches, the ingest function's compilation and every named statement's
    // plan: in a two-process run at 300 msg/s, new backends held PostgreSQL's core for about
    // 0.7 s and deliveries waited up to 0.6 s.
    idleTimeoutMillis: 0,
    // Every connection of the pool resolves unqualified names in the given schema.
    options: schema === undefined ? undefined : `-c search_path=${schema}`,
  });
  // An idle client losing its connection emits `error` on the pool; unhandled, it would end
  // the process. The next query gets a fresh connection.
  pool.on("error", (err) => log?.warn({ err }, "PostgreSQL idle client error"));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: namedStatementPool(pool) }) });
}
