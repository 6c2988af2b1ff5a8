import type { Conversation, User, UserWithPassword } from "../../domain/types.js";
import { ConflictError } from "../../errors.js";
import type { NewUser, UserStore } from "../store.js";
import {
  CONVERSATION_COLUMNS,
  type ConversationRow,
  toConversation,
} from "./conversation-query.js";
import { toUser, toUserWithPassword } from "./mappers.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { SqlContext } from "./schema.js";
import { isUniqueViolation } from "./sql-errors.js";

// Every authenticated request and socket handshake reads its user by id.
const byId = new PreparedQuery((db) =>
  db.selectFrom("users").selectAll().where("id", "=", arg<number>(0)),
);

// A chat socket's handshake: the token's user and, when that user owns it, the conversation the
// socket opens (another owner's conversation joins nothing, exactly like a missing one), in one
// round trip instead of two.
const byIdWithConversation = new PreparedQuery((db) =>
  db
    .selectFrom("users as u")
    .leftJoin("conversations as c", (join) =>
      join.on("c.id", "=", arg<string>(1)).onRef("c.owner_id", "=", "u.id"),
    )
    .leftJoin("customers as cu", "cu.id", "c.customer_id")
    .leftJoin("messages as m", (join) =>
      join.onRef("m.conversation_id", "=", "c.id").onRef("m.seq", "=", "c.last_seq"),
    )
    .select([
      "u.id as user_id",
      "u.username as user_username",
      "u.first_name as user_first_name",
      "u.last_name as user_last_name",
      "u.created_at as user_created_at",
      ...CONVERSATION_COLUMNS,
    ])
    .where("u.id", "=", arg<number>(0)),
);

type JoinedRow = NonNullable<Awaited<ReturnType<typeof byIdWithConversation.executeTakeFirst>>>;

/** The left join found the conversation: its columns are those of a conversation row. */
const joinedConversation = (row: JoinedRow): row is JoinedRow & ConversationRow =>
  row.id !== null && row.customer_id !== null;

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

  async findWithConversation(
    id: number,
    conversationId: string,
  ): Promise<{ user: User; conversation: Conversation | undefined } | undefined> {
    const row = await byIdWithConversation.executeTakeFirst(
      this.ctx.db,
      this.ctx.dialect,
      id,
      conversationId,
    );
    if (row === undefined) return undefined;
    const user: User = {
      id: row.user_id,
      username: row.user_username,
      firstName: row.user_first_name,
      lastName: row.user_last_name,
      createdAt: row.user_created_at,
    };
    return { user, conversation: joinedConversation(row) ? toConversation(row) : undefined };
  }
}
