import type { Updateable } from "kysely";
import { type AiSettings, DEFAULT_AI_SETTINGS } from "../../domain/types.js";
import type { AiSettingsStore } from "../store.js";
import type { AiSettingsTable, Executor, SqlContext } from "./schema.js";

const toSettings = (
  row: Pick<AiSettingsTable, "enabled" | "instructions" | "new_conversation_status">,
): AiSettings => ({
  enabled: row.enabled === 1,
  instructions: row.instructions,
  newConversationStatus: row.new_conversation_status,
});

async function read(db: Executor, userId: number): Promise<AiSettings> {
  const row = await db
    .selectFrom("ai_settings")
    .select(["enabled", "instructions", "new_conversation_status"])
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row === undefined ? { ...DEFAULT_AI_SETTINGS } : toSettings(row);
}

export class SqlAiSettingsStore implements AiSettingsStore {
  constructor(private readonly ctx: SqlContext) {}

  get(userId: number): Promise<AiSettings> {
    return read(this.ctx.db, userId);
  }

  update(userId: number, changes: Partial<AiSettings>): Promise<AiSettings> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const now = Date.now();
      const first = { ...DEFAULT_AI_SETTINGS, ...changes };
      // Only the given columns on conflict: two partial updates at once never undo each other.
      const set: Updateable<AiSettingsTable> = { updated_at: now };
      if (changes.enabled !== undefined) set.enabled = changes.enabled ? 1 : 0;
      if (changes.instructions !== undefined) set.instructions = changes.instructions;
      if (changes.newConversationStatus !== undefined) {
        set.new_conversation_status = changes.newConversationStatus;
      }
      await trx
        .insertInto("ai_settings")
        .values({
          user_id: userId,
          enabled: first.enabled ? 1 : 0,
          instructions: first.instructions,
          new_conversation_status: first.newConversationStatus,
          updated_at: now,
        })
        .onConflict((oc) => oc.column("user_id").doUpdateSet(set))
        .execute();
      return read(trx, userId);
    });
  }
}
