import type { ConversationStatus, ConversationView, CustomerView } from "../sdk.js";

export const STATUS_LABELS: Record<ConversationStatus, string> = {
  active: "Automatic answers",
  support_active: "Support",
  marketing_active: "Marketing",
  closed: "Closed",
};

export const SOURCE_LABELS = { telegram: "Telegram", instagram: "Instagram" } as const;

export function customerName(customer: CustomerView): string {
  const name = `${customer.first_name ?? ""} ${customer.last_name ?? ""}`.trim();
  return name || customer.username || `Customer ${customer.id}`;
}

export function initials(name: string): string {
  const parts = name.split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts[1]?.[0] ?? "")).toUpperCase();
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** Today: the time; earlier: the day. */
export function shortTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  return date.toDateString() === now.toDateString()
    ? timeFormat.format(date)
    : dayFormat.format(date);
}

export function fullTime(iso: string): string {
  return new Date(iso).toLocaleString();
}

export function preview(conversation: ConversationView): string {
  const last = conversation.last_message;
  if (!last) return "No messages yet";
  const prefix = { customer: "", support: "You: ", AI: "Auto: ", marketing: "Marketing: " };
  return prefix[last.type] + last.content;
}
