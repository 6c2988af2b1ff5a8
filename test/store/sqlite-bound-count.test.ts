import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kysely } from "kysely";
import type { Database } from "../../src/store/sql/schema.js";
import { sqliteWithUsers } from "../helpers/sqlite-users.js";

// A bare `?` as LIMIT makes SQLite compile the cached statement again on every run (see
// SQLITE_BOUND_COUNT); the store's SQLite dialect writes bound counts as `0 + ?` instead.

describe("bound LIMIT and OFFSET on SQLite", () => {
  let db: Kysely<Database>;

  before(async () => {
    db = await sqliteWithUsers("a", "b", "c");
  });
  after(() => db.destroy());

  const page = (limit: number, offset: number) =>
    db.selectFrom("users").select("username").orderBy("username").limit(limit).offset(offset);

  it("are written as expressions, with their values still bound", () => {
    const { sql, parameters } = page(2, 1).compile();
    assert.equal(
      sql,
      'select "username" from "users" order by "username" limit 0 + ? offset 0 + ?',
    );
    assert.deepEqual(parameters, [2, 1]);
  });

  it("still limit and skip rows, with new values on the same cached statement", async () => {
    assert.deepEqual(await page(2, 1).execute(), [{ username: "b" }, { username: "c" }]);
    assert.deepEqual(await page(1, 0).execute(), [{ username: "a" }]);
    assert.deepEqual(await page(5, 2).execute(), [{ username: "c" }]);
  });
});
