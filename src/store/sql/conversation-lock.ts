import { arg, PreparedQuery } from "./prepared-query.js";
import type { DialectName, Executor } from "./schema.js";

// Every write that takes a seq first locks its conversation row, and only then checks for a
// duplicate: two writers of the same conversation (in any process) run one after the other,
// so a retried message is found by the second instead of being stored twice, and seqs come
// out gap-free. PostgreSQL: a row lock (SELECT ... FOR UPDATE). SQLite: the transaction began
// with BEGIN IMMEDIATE and already holds the database's single write lock.

const select = (trx: Executor) =>
  trx
    .selectFrom("conversations")
    .select(["id", "channel_id", "status"])
    .where("id", "=", arg<string>(0));
const lockPostgres = new PreparedQuery((trx) => select(trx).forUpdate());
const lockSqlite = new PreparedQuery(select);

export async function lockConversation(trx: Executor, dialect: DialectName, id: string) {
  const prepared = dialect === "postgres" ? lockPostgres : lockSqlite;
  return prepared.executeTakeFirst(trx, dialect, id);
}
