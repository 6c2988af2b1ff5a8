import type { User, UserWithPassword } from "../../domain/types.js";
import { ConflictError } from "../../errors.js";
import type { NewUser, UserStore } from "../store.js";
import { toUser, toUserWithPassword } from "./mappers.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { SqlContext } from "./schema.js";
import { isUniqueViolation } from "./sql-errors.js";

// Every authenticated request and socket handshake reads its user by id.
const byId = new PreparedQuery((db) =>
  db.selectFrom("users").selectAll().where("id", "=", arg<number>(0)),
);

export class SqlUserStore implements UserStore {
  constructor(private readonly ctx: SqlContext) {}

  async create(user: NewUser): Promise<User> {
    try {
      const row = await this.ctx.db
        .insertInto("users")
        .values({
          username: user.username,
          password_hash: user.passwordHash,
          first_name: user.firstName,
          last_name: user.lastName,
          created_at: Date.now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (error) {
      // The unique index decides, not a prior lookup: two registrations can race.
      if (isUniqueViolation(error)) throw new ConflictError("Username is already taken");
      throw error;
    }
  }

  async findByUsername(username: string): Promise<UserWithPassword | undefined> {
    const row = await this.ctx.db
      .selectFrom("users")
      .selectAll()
      .where("username", "=", username)
      .executeTakeFirst();
    return row === undefined ? undefined : toUserWithPassword(row);
  }

  async findById(id: number): Promise<User | undefined> {
    const row = await byId.executeTakeFirst(this.ctx.db, this.ctx.dialect, id);
    return row === undefined ? undefined : toUser(row);
  }
}
