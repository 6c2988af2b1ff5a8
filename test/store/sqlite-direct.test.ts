import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kysely } from "kysely";
import { arg, PreparedQuery } from "../../src/store/sql/prepared-query.js";
import type { Database, Executor } from "../../src/store/sql/schema.js";
import { readNow } from "../../src/store/sql/sqlite-direct.js";
import { sqliteWithUsers, userRow } from "../helpers/sqlite-users.js";

// Direct reads share the one SQLite connection with Kysely: while a transaction is open on it,
// they must not run there (they would see its uncommitted rows) but go through Kysely.

const usernames = new PreparedQuery<[string, number], { username: string }>((db) =>
  db
    .selectFrom("users")
    .select("username")
    .where("username", ">=", arg<string>(0))
    .where("created_at", "=", 5)
    .orderBy("username")
    .limit(arg<number>(1)),
);
const countQuery = (db: Executor) =>
  db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .compile();
/** The count read directly, or undefined when it would have to go through Kysely. */
const count = (db: Executor): number | undefined => {
  const { sql, parameters } = countQuery(db);
  return readNow<{ n: number }>(db, sql, parameters)?.[0]?.n;
};

describe("direct SQLite reads", () => {
  let db: Kysely<Database>;

  before(async () => {
    db = await sqliteWithUsers("a", "b");
  });
  after(() => db.destroy());

  it("read on the connection, with arguments in their places and constants kept", async () => {
    assert.equal(count(db), 2);
    assert.deepEqual(await usernames.execute(db, "sqlite", "a", 5), [
      { username: "a" },
      { username: "b" },
    ]);
    assert.deepEqual(await usernames.execute(db, "sqlite", "b", 1), [{ username: "b" }]);
    assert.deepEqual(await usernames.execute(db, "sqlite", "c", 5), []);
  });

  it("are refused while a transaction is open, and never run inside one", async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values(userRow("c")).execute();
      assert.equal(count(db), undefined);
      assert.equal(count(trx), undefined);
      // Through Kysely, the transaction reads its own row.
      assert.deepEqual(await usernames.execute(trx, "sqlite", "c", 5), [{ username: "c" }]);
    });
    assert.deepEqual(await usernames.execute(db, "sqlite", "c", 5), [{ username: "c" }]);
  });

  it("never see rows of a transaction rolled back", async () => {
    const failed = db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values(userRow("d")).execute();
      assert.equal(count(db), undefined);
      throw new Error("rolled back");
    });
    await assert.rejects(failed, /rolled back/);
    assert.deepEqual(await usernames.execute(db, "sqlite", "d", 5), []);
    assert.equal(count(db), 3);
  });

  it("leave a statement that writes to Kysely", () => {
    const { sql, parameters } = db.insertInto("users").values(userRow("e")).compile();
    assert.equal(readNow(db, sql, parameters), undefined);
    assert.equal(count(db), 3);
  });

  it("leave a closed store to Kysely, whose error callers know", async () => {
    const closed = await sqliteWithUsers();
    assert.equal(count(closed), 0);
    await closed.destroy();
    assert.equal(count(closed), undefined);
  });
});
