import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import type { Channel, Conversation, Platform, User } from "../../src/domain/types.js";
import { createSqlStore } from "../../src/store/sql/create-store.js";
import type { InboundMessage, Store } from "../../src/store/store.js";

// Runs one suite over every store: STORES=sqlite,postgres (the default) picks them. PostgreSQL
// suites work in a fresh schema each, dropped afterwards, so runs never see each other's rows.
// An unreachable PostgreSQL skips its suites with one line, unless REQUIRE_SERVICES=1 (CI),
// where it fails.

export type StoreKind = "sqlite" | "postgres";

export const POSTGRES_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function postgresAddress(): string {
  try {
    const url = new URL(POSTGRES_URL);
    return `${url.hostname}:${url.port || "5432"}`;
  } catch {
    return "DATABASE_URL";
  }
}

export function storeKinds(): StoreKind[] {
  const wanted = (process.env.STORES ?? "sqlite,postgres").split(",").map((s) => s.trim());
  return (["sqlite", "postgres"] as const).filter((kind) => wanted.includes(kind));
}

let reachable: Promise<boolean> | undefined;

/** Whether PostgreSQL answers at POSTGRES_URL; asked once per process. */
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
    client.on("error", () => {}); // a refused connection is an answer, not a crash
    try {
      await client.connect();
      await client.query("select 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

export interface FreshPostgres {
  databaseUrl: string;
  schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A new, empty, uniquely named schema; undefined when PostgreSQL is not reachable. */
export async function freshPostgres(): Promise<FreshPostgres | undefined> {
  if (!(await postgresReachable())) return undefined;
  const schema = `test_${process.pid}_${randomBytes(6).toString("hex")}`;
  await adminQuery(`create schema ${schema}`);
  return {
    databaseUrl: POSTGRES_URL,
    schema,
    drop: () => adminQuery(`drop schema if exists ${schema} cascade`),
  };
}

// Asked once, before any suite is declared: node:test attaches tests to the right suite only
// when suite bodies run synchronously.
const postgresUp = storeKinds().includes("postgres") && (await postgresReachable());

let skipReported = false;

function reportSkip(): void {
  if (skipReported) return;
  skipReported = true;
  // The test runner shows a child's stdout lines as `# ...` comments.
  console.log(`skipped: postgres store suite (PostgreSQL not reachable at ${postgresAddress()})`);
}

export interface StoreHandle {
  kind: StoreKind;
  /** The suite's store, migrated; valid inside tests and hooks. */
  store(): Store;
  /**
   * Runs SQL on the store's database over a separate connection, for what the Store interface
   * does not show (read markers, outbox rows) or cannot do (forcing equal timestamps). `?`
   * placeholders; bigint columns come back as numbers.
   */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

export interface OpenedStore {
  store: Store;
  sql: StoreHandle["sql"];
  dispose(): Promise<void>;
}

const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format),
};

/** A migrated store of the given kind with a side connection; undefined without PostgreSQL. */
export async function openStore(kind: StoreKind): Promise<OpenedStore | undefined> {
  if (kind === "sqlite") {
    // A file rather than ":memory:", so that the side connection sees the same database.
    const dir = mkdtempSync(join(tmpdir(), "fiko-store-"));
    const path = join(dir, "store.sqlite");
    const store = await createSqlStore({ sqlitePath: path });
    await store.migrate();
    const side = new BetterSqlite3(path);
    side.pragma("busy_timeout = 5000");
    return {
      store,
      async sql(text, params = []) {
        const statement = side.prepare(text);
        if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
        statement.run(...params);
        return [];
      },
      async dispose() {
        side.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const fresh = await freshPostgres();
  if (fresh === undefined) return undefined;
  const store = await createSqlStore({ databaseUrl: fresh.databaseUrl, schema: fresh.schema });
  const side = new pg.Client({
    connectionString: fresh.databaseUrl,
    options: `-c search_path=${fresh.schema}`,
    types: int8AsNumber,
  });
  try {
    await store.migrate();
    await side.connect();
  } catch (error) {
    // The suite never gets a dispose function: clean up here, or the schema stays behind.
    await side.end().catch(() => {});
    await store.close();
    await fresh.drop();
    throw error;
  }
  return {
    store,
    async sql(text, params = []) {
      let n = 0;
      const result = await side.query(
        text.replace(/\?/g, () => `$${++n}`),
        params,
      );
      return result.rows;
    },
    async dispose() {
      await side.end();
      await store.close();
      await fresh.drop();
    },
  };
}

/** Declares `body`'s tests once per store kind, each kind with its own fresh store. */
export function describeStores(title: string, body: (handle: StoreHandle) => void): void {
  for (const kind of storeKinds()) {
    describe(`${title} [${kind}]`, () => {
      if (kind === "postgres" && !postgresUp) {
        if (process.env.REQUIRE_SERVICES === "1") {
          it("needs PostgreSQL", () => {
            throw new Error(`PostgreSQL not reachable at ${postgresAddress()}`);
          });
        } else {
          reportSkip();
        }
        return;
      }
      let opened: OpenedStore | undefined;
      before(async () => {
        opened = await openStore(kind);
      });
      after(async () => {
        await opened?.dispose();
      });
      body({
        kind,
        store: () => {
          if (opened === undefined) throw new Error(`${kind} store is not open`);
          return opened.store;
        },
        sql: (text, params) => {
          if (opened === undefined) throw new Error(`${kind} store is not open`);
          return opened.sql(text, params);
        },
      });
    });
  }
}

// Fixtures shared by the store suites. Names carry a random part because a suite's tests share
// one store: each test makes its own owner and works inside it.

export function unique(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

export async function newOwner(store: Store): Promise<User> {
  return store.users.create({
    username: unique("owner"),
    passwordHash: "scrypt$fake",
    firstName: "Owner",
    lastName: "Test",
  });
}

export async function newChannel(
  store: Store,
  ownerId: number,
  platform: Platform = "telegram",
): Promise<Channel> {
  return store.channels.create({
    ownerId,
    platform,
    name: unique("bot"),
    externalId: unique("ext"),
    credentials: { botToken: "123:secret-token", secretToken: "hook-secret" },
    mode: "polling",
  });
}

export function inbound(channel: Channel, overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    channelId: channel.id,
    ownerId: channel.ownerId,
    source: channel.platform,
    customerExternalId: "cust-1",
    firstName: "John",
    lastName: "Doe",
    username: "johnd",
    externalMessageId: unique("msg"),
    content: "Hello",
    ...overrides,
  };
}

/** An owner, a channel and one customer conversation with a first message. */
export async function newConversation(
  store: Store,
  overrides: Partial<InboundMessage> = {},
): Promise<{ owner: User; channel: Channel; conversation: Conversation }> {
  const owner = await newOwner(store);
  const channel = await newChannel(store, owner.id);
  const { conversation } = await store.messages.ingest(inbound(channel, overrides));
  return { owner, channel, conversation };
}
