import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kysely } from "kysely";
import { openSqlite } from "../../src/store/sql/connect.js";
import { migrateToLatest } from "../../src/store/sql/migrations.js";
import { arg } from "../../src/store/sql/prepared-query.js";
import type { Database } from "../../src/store/sql/schema.js";
import { DirectRead } from "../../src/store/sql/sqlite-direct.js";

// Direct reads share the one SQLite connection with Kysely: while a transaction is open on it,
// they must not run there (they would see its uncommitted rows) but go through Kysely.

const usernames = new DirectRead<[string, number], { username: string }>(2, (db) =>
  db
    .selectFrom("users")
    .select("username")
    .where("username", ">=", arg<string>(0))
    .where("created_at", "=", 5)
    .orderBy("username")
    .limit(arg<number>(1)),
);
const count = new DirectRead<[], number>(0, (db) =>
  db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")),
);

const user = (username: string) => ({
  username,
  password_hash: "x",
  first_name: "F",
  last_name: "L",
  created_at: 5,
});

describe("direct SQLite reads", () => {
  let db: Kysely<Database>;

  before(async () => {
    db = openSqlite(":memory:");
    await migrateToLatest(db, "sqlite");
    await db
      .insertInto("users")
      .values([user("a"), user("b")])
      .execute();
  });
  after(() => db.destroy());

  it("read on the connection, with arguments in their places and constants kept", () => {
    assert.deepEqual(usernames.all(db, "a", 5), [{ username: "a" }, { username: "b" }]);
    assert.deepEqual(usernames.all(db, "b", 1), [{ username: "b" }]);
    assert.deepEqual(usernames.all(db, "c", 5), []);
    assert.equal(count.value(db), 2);
  });

  it("are refused while a transaction is open, and never run inside one", async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values(user("c")).execute();
      assert.equal(usernames.all(db, "c", 5), undefined);
      assert.equal(count.value(db), undefined);
      assert.equal(usernames.all(trx, "c", 5), undefined);
    });
    assert.deepEqual(usernames.all(db, "c", 5), [{ username: "c" }]);
  });

  it("never see rows of a transaction rolled back", async () => {
    const failed = db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values(user("d")).execute();
      assert.equal(count.value(db), undefined);
      throw new Error("rolled back");
    });
    await assert.rejects(failed, /rolled back/);
    assert.deepEqual(usernames.all(db, "d", 5), []);
    assert.equal(count.value(db), 3);
  });

  it("leave a closed store to Kysely, whose error callers know", async () => {
    const closed = openSqlite(":memory:");
    await migrateToLatest(closed, "sqlite");
    assert.equal(count.value(closed), 0);
    await closed.destroy();
    assert.equal(count.value(closed), undefined);
  });
});
