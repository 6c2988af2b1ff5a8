import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";
import type pg from "pg";

// PostgreSQL parses and plans an unnamed statement on every call. The hottest statements (those
// compiled once by PreparedQuery: a webhook's ingest, the conversation lock, the snapshot) are
// sent as named statements instead: each connection parses one the first time it runs it and
// then only binds and executes it. The set is fixed by the code, so a connection never holds
// more than a few dozen.

const statementNames = new Map<string, string>();

/** Marks `sql` (a PostgreSQL text compiled once) to run as a named statement. */
export function nameStatement(sql: string): void {
  if (!statementNames.has(sql)) statementNames.set(sql, `fiko_${statementNames.size + 1}`);
}

type QueryResult<R> = PostgresQueryResult<R>;

/** `pool` as Kysely sees it, with named statements for the marked texts. */
export function namedStatementPool(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<QueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      function query<R>(
        sqlOrCursor: string | PostgresCursor<R>,
        parameters?: ReadonlyArray<unknown>,
      ): Promise<QueryResult<R>> | PostgresCursor<R> {
        if (typeof sqlOrCursor !== "string") {
          throw new Error("Cursors are not used by the store");
        }
        const values = parameters === undefined ? [] : [...parameters];
        const name = statementNames.get(sqlOrCursor);
        const config: pg.QueryConfig = name
          ? { name, text: sqlOrCursor, values }
          : { text: sqlOrCursor, values };
        return client.query(config) as unknown as Promise<QueryResult<R>>;
      }
      return { query, release: () => client.release() };
    },
    end: () => pool.end(),
  };
}
