import type { Selectable } from "kysely";
import type {
  Channel,
  ChannelCredentials,
  Customer,
  User,
  UserWithPassword,
} from "../../domain/types.js";
import type { ChannelsTable, CustomersTable, UsersTable } from "./schema.js";

// Row → domain for the single-table records. Joined records (conversations, messages) map in
// the query modules that select them.

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    username: row.username,
    firstName: row.first_name,
    lastName: row.last_name,
    createdAt: row.created_at,
  };
}

export function toUserWithPassword(row: Selectable<UsersTable>): UserWithPassword {
  return { ...toUser(row), passwordHash: row.password_hash };
}

export function toChannel(row: Selectable<ChannelsTable>): Channel {
  return {
    id: row.id,
    ownerId: row.owner_id,
    platform: row.platform,
    name: row.name,
    externalId: row.external_id,
    credentials: JSON.parse(row.credentials) as ChannelCredentials,
    mode: row.mode,
    pollOffset: row.poll_offset,
    createdAt: row.created_at,
  };
}

export function toCustomer(row: Selectable<CustomersTable>): Customer {
  return {
    id: row.id,
    ownerId: row.owner_id,
    source: row.source,
    externalId: row.external_id,
    firstName: row.first_name,
    lastName: row.last_name,
    username: row.username,
    profilePicture: row.profile_picture,
    createdAt: row.created_at,
  };
}

/** `"{source} - {first_name} {last_name}"`, trimmed: the wire contract's conversation title. */
export function conversationTitle(customer: {
  source: string;
  firstName: string;
  lastName: string;
}): string {
  return `${customer.source} - ${customer.firstName} ${customer.lastName}`.trim();
}
