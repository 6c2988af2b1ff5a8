import type { Selectable } from "kysely";
import type {
  Channel,
  ChannelCredentials,
  Customer,
  User,
  UserWithPassword,
} from "../../domain/types.js";
import type { ChannelsTable, CustomersTable, UsersTable } from "./schema.js";

/**
 * The customer's columns when `customers as cu` is joined beside another table, prefixed
 * `customer_` (its id comes as `customer_id`, from `cu` or from the joined row's own column).
 */
export const JOINED_CUSTOMER_FIELDS = [
  "cu.owner_id as customer_owner_id",
  "cu.source as customer_source",
  "cu.external_id as customer_external_id",
  "cu.first_name as customer_first_name",
  "cu.last_name as customer_last_name",
  "cu.username as customer_username",
  "cu.profile_picture as customer_profile_picture",
  "cu.created_at as customer_created_at",
] as const;

export const JOINED_CUSTOMER_COLUMNS = ["cu.id as customer_id", ...JOINED_CUSTOMER_FIELDS] as const;

/** A row holding the customer's columns as `JOINED_CUSTOMER_COLUMNS` names them. */
export interface JoinedCustomerRow {
  customer_id: number;
  customer_owner_id: number;
  customer_source: CustomersTable["source"];
  customer_external_id: string;
  customer_first_name: string;
  customer_last_name: string;
  customer_username: string | null;
  customer_profile_picture: string | null;
  customer_created_at: number;
}

export function joinedCustomer(row: JoinedCustomerRow): Customer {
  return {
    id: row.customer_id,
    ownerId: row.customer_owner_id,
    source: row.customer_source,
    externalId: row.customer_external_id,
    firstName: row.customer_first_name,
    lastName: row.customer_last_name,
    username: row.customer_username,
    profilePicture: row.customer_profile_picture,
    createdAt: row.customer_created_at,
  };
}

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
