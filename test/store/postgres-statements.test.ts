import assert from "node:assert/strict";
import { it } from "node:test";
import pg from "pg";
import { namedStatementPool, nameStatement } from "../../src/store/sql/postgres-statements.js";
import { POSTGRES_URL, postgresReachable } from "../helpers/stores.js";

// Texts compiled once run as named statements (parsed once per connection); others stay
// unnamed. pg_prepared_statements lists what the session holds.

const reachable = await postgresReachable();
if (!reachable && process.env.REQUIRE_SERVICES !== "1") {
  console.log("skipped: postgres named statements (PostgreSQL not reachable)");
}

it("sends the marked texts as named statements, parsed once per connection", {
  skip: !reachable && process.env.REQUIRE_SERVICES !== "1",
}, async () => {
  const raw = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
  const pool = namedStatementPool(raw);
  const marked = `select $1::int + 1 as next /* ${process.pid} ${Date.now()} */`;
  nameStatement(marked);
  try {
    const client = await pool.connect();
    try {
      for (const value of [1, 2, 3]) {
        const result = await client.query<{ next: number }>(marked, [value]);
        assert.deepEqual(result.rows, [{ next: value + 1 }]);
      }
      await client.query("select $1::int as unmarked", [7]);
      const held = await client.query<{ statement: string }>(
        "select statement from pg_prepared_statements",
        [],
      );
      assert.deepEqual(
        held.rows.map((row) => row.statement),
        [marked],
      );
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
});
