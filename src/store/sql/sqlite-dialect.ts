import type BetterSqlite3 from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type LimitNode,
  type OffsetNode,
  type QueryCompiler,
  type QueryResult,
  SqliteDialect,
  SqliteDriver,
  SqliteQueryCompiler,
} from "kysely";

// Kysely's SQLite connection prepares every statement again on each call; on the busy paths
// (a webhook message runs about a dozen statements) preparing took more CPU than running. The
// statements are kept per SQL text instead. Queries with `in (…)` lists make new texts, so the
// cache is bounded and forgets its oldest entry first.
const MAX_STATEMENTS = 500;

const statementsByDatabase = new WeakMap<
  BetterSqlite3.Database,
  Map<string, BetterSqlite3.Statement>
>();

/** `text` prepared on `database`, once: Kysely's connection and direct reads share these. */
export function preparedOn(
  database: BetterSqlite3.Database,
  text: string,
): BetterSqlite3.Statement {
  let statements = statementsByDatabase.get(database);
  if (statements === undefined) {
    statements = new Map();
    statementsByDatabase.set(database, statements);
  }
  let statement = statements.get(text);
  if (statement === undefined) {
    statement = database.prepare(text);
    if (statements.size >= MAX_STATEMENTS) {
      const oldest = statements.keys().next();
      if (!oldest.done) statements.delete(oldest.value);
    }
    statements.set(text, statement);
  }
  return statement;
}

class CachingSqliteConnection implements DatabaseConnection {
  constructor(private readonly database: BetterSqlite3.Database) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = preparedOn(this.database, compiledQuery.sql);
    const parameters = compiledQuery.parameters as unknown[];
    if (statement.reader) return Promise.resolve({ rows: statement.all(parameters) as R[] });
    const { changes, lastInsertRowid } = statement.run(parameters);
    return Promise.resolve({
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    });
  }

  // Unused by the store; a cached statement could still be mid-iteration, so a fresh one.
  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const statement = this.database.prepare(compiledQuery.sql);
    for (const row of statement.iterate(compiledQuery.parameters as unknown[])) {
      yield { rows: [row as R] };
    }
  }
}

// Transactions start with BEGIN IMMEDIATE: a deferred transaction that reads first and writes
// later can fail with SQLITE_BUSY when another process wrote in between, and the busy timeout
// cannot help it. Taking the write lock up front makes writers queue instead.
class CachingSqliteDriver extends SqliteDriver {
  private readonly connection: CachingSqliteConnection;

  constructor(
    database: BetterSqlite3.Database,
    private readonly beforeClose: (() => Promise<void>) | undefined,
  ) {
    super({ database });
    this.connection = new CachingSqliteConnection(database);
  }

  override async destroy(): Promise<void> {
    await this.beforeClose?.();
    await super.destroy();
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    // The base class keeps the single connection's mutex; its connection is swapped for ours.
    await super.acquireConnection();
    return this.connection;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/**
 * How a bound LIMIT or OFFSET is written on SQLite: `0 + ?`, not a bare `?`. SQLite (3.53 here)
 * reads the value bound to a bare `?` there while planning, and so marks the statement to be
 * compiled again whenever that parameter is bound, which is on every run: a cached 50-message
 * page statement was parsed and planned anew on each call (25 against 39 us, 6% of a connect's
 * CPU in a profile). An expression is left to the run, as SQLite did before.
 */
const BEFORE_BOUND_COUNT = "0 + ";
export const SQLITE_BOUND_COUNT = `${BEFORE_BOUND_COUNT}?`;

class BoundCountCompiler extends SqliteQueryCompiler {
  protected override visitLimit(node: LimitNode): void {
    this.append(`limit ${BEFORE_BOUND_COUNT}`);
    this.visitNode(node.limit);
  }

  protected override visitOffset(node: OffsetNode): void {
    this.append(`offset ${BEFORE_BOUND_COUNT}`);
    this.visitNode(node.offset);
  }
}

/** SQLite for Kysely: BEGIN IMMEDIATE transactions and statements prepared once. */
export class FastSqliteDialect extends SqliteDialect {
  constructor(
    private readonly database: BetterSqlite3.Database,
    /** Runs when the store closes, before the connection does. */
    private readonly beforeClose?: () => Promise<void>,
  ) {
    super({ database });
  }

  override createDriver(): Driver {
    return new CachingSqliteDriver(this.database, this.beforeClose);
  }

  override createQueryCompiler(): QueryCompiler {
    return new BoundCountCompiler();
  }
}
