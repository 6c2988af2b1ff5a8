import type BetterSqlite3 from "better-sqlite3";
import type { Executor } from "./schema.js";
import { preparedOn } from "./sqlite-dialect.js";

// Reads outside a transaction run their prepared statement on the SQLite connection itself
// (`PreparedQuery.execute` tries this first). Through Kysely's executor each read took a
// connection from the driver's lock, copied the compiled query and went through a few promise
// hops: about as much CPU as SQLite spent on the handshake read or a snapshot page.
//
// Only outside a transaction: the process has one connection, and while a transaction is open
// on it (awaiting between its statements) its uncommitted rows would be visible. Such a read
// goes through Kysely instead, whose lock makes it wait for the commit or rollback. A direct
// read runs synchronously, so no transaction can start in the middle of it. Statements that
// write always go through Kysely.

const databases = new WeakMap<Executor, BetterSqlite3.Database>();

/** Lets direct reads on `db` (not on its transactions) use `database`, its one connection. */
export function allowDirectReads(db: Executor, database: BetterSqlite3.Database): void {
  databases.set(db, database);
}

/**
 * The rows of a read-only `sql`, read now on `db`'s SQLite connection; undefined when the
 * statement must go through Kysely: `db` is a transaction or not SQLite, a transaction is open,
 * the connection is closed (Kysely gives its error), or the statement writes.
 */
export function readNow<R>(
  db: Executor,
  sql: string,
  parameters: readonly unknown[],
): R[] | undefined {
  const database = databases.get(db);
  if (database === undefined || !database.open || database.inTransaction) return undefined;
  const statement = preparedOn(database, sql);
  return statement.readonly ? (statement.all(parameters) as R[]) : undefined;
}
