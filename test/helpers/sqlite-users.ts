import type { Kysely } from "kysely";
import { openSqlite } from "../../src/store/sql/connect.js";
import { migrateToLatest } from "../../src/store/sql/migrations.js";
import type { Database } from "../../src/store/sql/schema.js";

/** A users row with only its name of interest (the SQLite connection tests read users). */
export const userRow = (username: string) => ({
  username,
  password_hash: "x",
  first_name: "F",
  last_name: "L",
  created_at: 5,
});

/** A migrated in-memory SQLite store holding one user per name, in the order given. */
export async function sqliteWithUsers(...usernames: string[]): Promise<Kysely<Database>> {
  const db = openSqlite(":memory:");
  await migrateToLatest(db, "sqlite");
  if (usernames.length > 0) await db.insertInto("users").values(usernames.map(userRow)).execute();
  return db;
}
