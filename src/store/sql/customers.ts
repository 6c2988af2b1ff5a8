import type { Updateable } from "kysely";
import type { Customer } from "../../domain/types.js";
import type { CustomerStore } from "../store.js";
import { conversationTitle, toCustomer } from "./mappers.js";
import type { CustomersTable, SqlContext } from "./schema.js";

type ProfileChanges = Partial<
  Pick<Customer, "firstName" | "lastName" | "username" | "profilePicture">
>;

export class SqlCustomerStore implements CustomerStore {
  constructor(private readonly ctx: SqlContext) {}

  async findById(id: number): Promise<Customer | undefined> {
    const row = await this.ctx.db
      .selectFrom("customers")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row === undefined ? undefined : toCustomer(row);
  }

  async updateProfile(id: number, profile: ProfileChanges): Promise<Customer | undefined> {
    const changes: Updateable<CustomersTable> = {};
    if (profile.firstName !== undefined) changes.first_name = profile.firstName;
    if (profile.lastName !== undefined) changes.last_name = profile.lastName;
    if (profile.username !== undefined) changes.username = profile.username;
    if (profile.profilePicture !== undefined) changes.profile_picture = profile.profilePicture;
    if (Object.keys(changes).length === 0) return this.findById(id);

    return this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("customers")
        .set(changes)
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const customer = toCustomer(row);
      // Titles are derived from the customer's name; keep them in step. updated_at stays: a
      // profile fetch is not news that should reorder the owner's list.
      await trx
        .updateTable("conversations")
        .set({ title: conversationTitle(customer) })
        .where("customer_id", "=", id)
        .execute();
      return customer;
    });
  }
}
