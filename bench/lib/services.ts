import { randomBytes } from "node:crypto";
import { createClient } from "@redis/client";
import pg from "pg";

// The cluster scenario's data lives in its own PostgreSQL database and under its own Redis key
// prefix, both removed afterwards, so it never meets the tests' data or another run's.

export interface PostgresDatabase {
  url: string;
  drop(): Promise<void>;
}

/** `text` run on a connection of its own to `url`; its rows. */
export async function adminQuery<R extends object = object>(
  url: string,
  text: string,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

const redisClient = (url: string) => createClient({ url });

/** `use` with a Redis connection of its own to `url`, closed afterwards. */
export async function withRedis<T>(
  url: string,
  use: (client: ReturnType<typeof redisClient>) => Promise<T>,
): Promise<T> {
  const client = redisClient(url);
  client.on("error", () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}

/** A new empty database beside the one `url` names; `drop` removes it. */
export async function freshDatabase(url: string): Promise<PostgresDatabase> {
  const name = `fiko_bench_${process.pid}_${randomBytes(4).toString("hex")}`;
  await adminQuery(url, `create database ${name}`);
  const fresh = new URL(url);
  fresh.pathname = `/${name}`;
  return {
    url: fresh.toString(),
    drop: async () => {
      await adminQuery(url, `drop database if exists ${name} with (force)`);
    },
  };
}

export interface RedisPrefix {
  prefix: string;
  /** Deletes every key under the prefix (channels need no cleanup). */
  clear(): Promise<void>;
}

export async function redisPrefix(url: string): Promise<RedisPrefix> {
  const prefix = `fiko-bench-${process.pid}-${randomBytes(4).toString("hex")}:`;
  return {
    prefix,
    clear: () =>
      withRedis(url, async (client) => {
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
          if (keys.length > 0) await client.del(keys);
        }
      }),
  };
}
