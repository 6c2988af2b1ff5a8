import type { Compilable, CompiledQuery } from "kysely";
import { nameStatement } from "./postgres-statements.js";
import type { DialectName, Executor } from "./schema.js";
import { readNow } from "./sqlite-direct.js";

// Building a Kysely query and compiling it to SQL cost more CPU than running it on the
// busiest lookups (a conversation, a user, a channel by id, the conversation lock). A prepared
// query is built once per dialect with placeholder arguments; each call only swaps the
// placeholders in the compiled parameters for the real values.

const MARK = "\u0000fiko-arg:";

/** Stands for argument `index` while the query is built; typed as the value it replaces. */
export function arg<T>(index: number): T {
  return `${MARK}${index}` as unknown as T;
}

interface Compiled<R> {
  query: CompiledQuery<R>;
  /** Per compiled parameter: the argument index it takes, or undefined to keep the constant. */
  slots: (number | undefined)[];
}

export class PreparedQuery<A extends readonly unknown[], R> {
  private readonly compiled = new Map<DialectName, Compiled<R>>();

  constructor(private readonly build: (db: Executor) => Compilable<R>) {}

  private compile(db: Executor, dialect: DialectName): Compiled<R> {
    let compiled = this.compiled.get(dialect);
    if (compiled === undefined) {
      const query = this.build(db).compile();
      const slots = query.parameters.map((value) =>
        typeof value === "string" && value.startsWith(MARK)
          ? Number(value.slice(MARK.length))
          : undefined,
      );
      compiled = { query, slots };
      if (dialect === "postgres") nameStatement(query.sql);
      this.compiled.set(dialect, compiled);
    }
    return compiled;
  }

  /**
   * Runs the query on `db` (a transaction or not) with `args` in place of the placeholders; a
   * read outside a transaction on SQLite runs on the connection directly (sqlite-direct.ts).
   */
  async execute(db: Executor, dialect: DialectName, ...args: A): Promise<R[]> {
    const { query, slots } = this.compile(db, dialect);
    const parameters = slots.map((slot, i) =>
      slot === undefined ? query.parameters[i] : args[slot],
    );
    const now = dialect === "sqlite" ? readNow<R>(db, query.sql, parameters) : undefined;
    if (now !== undefined) return now;
    const result = await db.executeQuery<R>({ ...query, parameters });
    return result.rows;
  }

  async executeTakeFirst(db: Executor, dialect: DialectName, ...args: A): Promise<R | undefined> {
    const rows = await this.execute(db, dialect, ...args);
    return rows[0];
  }
}
