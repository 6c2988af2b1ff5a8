import { newChannelId } from "../../domain/ids.js";
import type { Channel, Platform } from "../../domain/types.js";
import { ConflictError } from "../../errors.js";
import type { ChannelStore, NewChannel } from "../store.js";
import { toChannel } from "./mappers.js";
import { arg, PreparedQuery } from "./prepared-query.js";
import type { SqlContext } from "./schema.js";
import { isUniqueViolation } from "./sql-errors.js";

// Every webhook request and every outbox send reads its channel by id.
const byId = new PreparedQuery((db) =>
  db.selectFrom("channels").selectAll().where("id", "=", arg<string>(0)),
);

// The polling supervisor lists the polling channels at every round (every 5 s by default), on
// every process, with or without traffic.
const byPlatform = new PreparedQuery((db) =>
  db
    .selectFrom("channels")
    .selectAll()
    .where("platform", "=", arg<Platform>(0))
    .orderBy("created_at")
    .orderBy("id"),
);
const byPlatformAndMode = new PreparedQuery((db) =>
  db
    .selectFrom("channels")
    .selectAll()
    .where("platform", "=", arg<Platform>(0))
    .where("mode", "=", arg<Channel["mode"]>(1))
    .orderBy("created_at")
    .orderBy("id"),
);

export class SqlChannelStore implements ChannelStore {
  constructor(private readonly ctx: SqlContext) {}

  async create(channel: NewChannel): Promise<Channel> {
    try {
      const row = await this.ctx.db
        .insertInto("channels")
        .values({
          id: newChannelId(),
          owner_id: channel.ownerId,
          platform: channel.platform,
          name: channel.name,
          external_id: channel.externalId,
          credentials: JSON.stringify(channel.credentials),
          mode: channel.mode,
          created_at: Date.now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toChannel(row);
    } catch (error) {
      // No cause attached: driver errors may quote the row, and the row holds the secrets.
      if (isUniqueViolation(error)) {
        throw new ConflictError(`This ${channel.platform} account is already connected`);
      }
      throw error;
    }
  }

  async findById(id: string): Promise<Channel | undefined> {
    const row = await byId.executeTakeFirst(this.ctx.db, this.ctx.dialect, id);
    return row === undefined ? undefined : toChannel(row);
  }

  async findByExternalId(platform: Platform, externalId: string): Promise<Channel | undefined> {
    const row = await this.ctx.db
      .selectFrom("channels")
      .selectAll()
      .where("platform", "=", platform)
      .where("external_id", "=", externalId)
      .executeTakeFirst();
    return row === undefined ? undefined : toChannel(row);
  }

  async listByOwner(ownerId: number): Promise<Channel[]> {
    const rows = await this.ctx.db
      .selectFrom("channels")
      .selectAll()
      .where("owner_id", "=", ownerId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toChannel);
  }

  async listAll(platform: Platform, mode?: Channel["mode"]): Promise<Channel[]> {
    const { db, dialect } = this.ctx;
    const rows =
      mode === undefined
        ? await byPlatform.execute(db, dialect, platform)
        : await byPlatformAndMode.execute(db, dialect, platform, mode);
    return rows.map(toChannel);
  }

  async remove(ownerId: number, id: string): Promise<boolean> {
    // Conversations keep their history: the foreign key sets their channel_id to null.
    const result = await this.ctx.db
      .deleteFrom("channels")
      .where("id", "=", id)
      .where("owner_id", "=", ownerId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async setPollOffset(id: string, offset: number): Promise<void> {
    await this.ctx.db
      .updateTable("channels")
      .set({ poll_offset: offset })
      .where("id", "=", id)
      .execute();
  }

  async acquirePollLease(
    id: string,
    owner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean> {
    // One statement: PostgreSQL re-checks the condition on the row a concurrent writer left,
    // SQLite runs writers one at a time, so two owners never both match.
    const result = await this.ctx.db
      .updateTable("channels")
      .set({ poll_owner: owner, poll_lease_until: now + leaseMs })
      .where("id", "=", id)
      .where((eb) =>
        eb.or([
          eb("poll_owner", "is", null),
          eb("poll_owner", "=", owner),
          eb("poll_lease_until", "is", null),
          eb("poll_lease_until", "<", now),
        ]),
      )
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async releasePollLease(id: string, owner: string): Promise<void> {
    await this.ctx.db
      .updateTable("channels")
      .set({ poll_owner: null, poll_lease_until: null })
      .where("id", "=", id)
      .where("poll_owner", "=", owner)
      .execute();
  }
}
