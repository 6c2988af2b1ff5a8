import type { ConversationStatus, ConversationView, Platform } from "./wire.js";

/** Which conversations a list shows; every field optional, all given ones must match. */
export interface ConversationFilter {
  status?: ConversationStatus;
  source?: Platform;
  /** Case-insensitive substring of the title or the customer's names. */
  search?: string;
}

/** The server's order: newest `updated_at` first, then `id` descending. */
export function compareConversations(a: ConversationView, b: ConversationView): number {
  if (a.updated_at !== b.updated_at) return a.updated_at < b.updated_at ? 1 : -1;
  if (a.id !== b.id) return a.id < b.id ? 1 : -1;
  return 0;
}

/** Whether a conversation belongs in a list with this filter (as the server decides it). */
export function matchesFilter(c: ConversationView, filter: ConversationFilter): boolean {
  if (filter.status !== undefined && c.status !== filter.status) return false;
  if (filter.source !== undefined && c.source !== filter.source) return false;
  const search = filter.search?.trim().toLowerCase();
  if (!search) return true;
  return [c.title, c.customer.first_name, c.customer.last_name, c.customer.username ?? ""].some(
    (text) => text.toLowerCase().includes(search),
  );
}

/**
 * `items` with `update` in its place: replaced (same id) and moved to where the order puts it,
 * or dropped when it no longer matches `filter`. With `bounded`, a new conversation that sorts
 * after the last item is left out: it belongs to a page not loaded yet. Returns a new array.
 */
export function upsertConversation(
  items: readonly ConversationView[],
  update: ConversationView,
  filter: ConversationFilter,
  bounded: boolean,
): ConversationView[] {
  const rest = items.filter((c) => c.id !== update.id);
  if (!matchesFilter(update, filter)) return rest;
  const last = rest.at(-1);
  const known = rest.length !== items.length;
  if (bounded && !known && last && compareConversations(update, last) > 0) return rest;
  const index = rest.findIndex((c) => compareConversations(update, c) < 0);
  if (index === -1) rest.push(update);
  else rest.splice(index, 0, update);
  return rest;
}

/** Merges a page into `items`: one entry per id (the newer copy wins), in order. */
export function mergeConversations(
  items: readonly ConversationView[],
  page: readonly ConversationView[],
): ConversationView[] {
  const byId = new Map<string, ConversationView>();
  for (const c of items) byId.set(c.id, c);
  for (const c of page) {
    // A push can be newer than the page that was read before it arrived.
    const held = byId.get(c.id);
    if (!held || held.updated_at <= c.updated_at) byId.set(c.id, c);
  }
  return [...byId.values()].sort(compareConversations);
}
