import type BetterSqlite3 from "better-sqlite3";
import type { Compilable } from "kysely";
import { arg } from "./prepared-query.js";
import type { Executor } from "./schema.js";

// The reads of every chat socket's handshake (the user with the conversation, the snapshot)
// run their prepared statement on the SQLite connection itself. Through Kysely's executor each
// read took a connection from the driver's lock, copied the compiled query and went through a
// few promise hops: about as much CPU as SQLite spent on the read.
//
// Only outside a transaction: the process has one connection, and while a transaction is open
// on it (awaiting between its statements) its uncommitted rows would be visible. Such a read
// goes through Kysely instead, whose lock makes it wait for the commit or rollback. A direct
// read runs synchronously, so no transaction can start in the middle of it.

const databases = new WeakMap<Executor, BetterSqlite3.Database>();

/** Lets direct reads on `db` (not on its transactions) use `database`, its one connection. */
export function allowDirectReads(db: Executor, database: BetterSqlite3.Database): void {
  databases.set(db, database);
}

/** `db`'s connection when a direct read may run on it now; closed, Kysely gives its error. */
function readableNow(db: Executor): BetterSqlite3.Database | undefined {
  const database = databases.get(db);
  return database === undefined || !database.open || database.inTransaction ? undefined : database;
}

interface Prepared {
  statement: BetterSqlite3.Statement;
  /** Per statement parameter: the argument index it takes, or undefined to keep the constant. */
  slots: (number | undefined)[];
  constants: unknown[];
}

/** A read built once (with `arg(i)` placeholders, as for `PreparedQuery`), run directly. */
export class DirectRead<A extends readonly unknown[], R> {
  private readonly prepared = new WeakMap<BetterSqlite3.Database, Prepared>();

  constructor(
    private readonly arity: A["length"],
    private readonly build: (db: Executor) => Compilable<R>,
  ) {}

  /** The statement and how its parameters come from the arguments, made once per database. */
  private prepare(db: Executor, database: BetterSqlite3.Database): Prepared {
    let prepared = this.prepared.get(database);
    if (prepared === undefined) {
      const query = this.build(db).compile();
      const marks = Array.from({ length: this.arity }, (_, i) => arg<unknown>(i));
      const slots = query.parameters.map((value) => {
        const index = marks.indexOf(value);
        return index === -1 ? undefined : index;
      });
      prepared = {
        statement: database.prepare(query.sql),
        slots,
        constants: [...query.parameters],
      };
      this.prepared.set(database, prepared);
    }
    return prepared;
  }

  private parameters({ slots, constants }: Prepared, args: A): unknown[] {
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      parameters[i] = slot === undefined ? constants[i] : args[slot];
    }
    return parameters;
  }

  /** The rows, read now; undefined when the read must go through Kysely (see above). */
  all(db: Executor, ...args: A): R[] | undefined {
    const database = readableNow(db);
    if (database === undefined) return undefined;
    const prepared = this.prepare(db, database);
    return prepared.statement.pluck(false).all(this.parameters(prepared, args)) as R[];
  }

  /** The first column of the first row, read now; undefined as for `all`, null without rows. */
  value(db: Executor, ...args: A): unknown {
    const database = readableNow(db);
    if (database === undefined) return undefined;
    const prepared = this.prepare(db, database);
    const value: unknown = prepared.statement.pluck(true).get(this.parameters(prepared, args));
    return value ?? null;
  }
}
