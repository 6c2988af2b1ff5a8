// The key sets of the wire objects of protocol.md section 3, sorted, for exact-shape assertions.
// Written out by hand rather than derived from the views: the tests pin the contract.

export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
export const PAGE_KEYS = ["conversations", "has_more", "next_cursor"];
export const CONVERSATION_KEYS = [
  "created_at",
  "customer",
  "id",
  "last_message",
  "priority",
  "source",
  "status",
  "title",
  "unread_count",
  "updated_at",
];
export const CUSTOMER_KEYS = [
  "first_name",
  "id",
  "last_name",
  "profile_picture",
  "source",
  "username",
];
export const LAST_MESSAGE_KEYS = ["content", "created_at", "id", "type"];
export const MESSAGE_KEYS = [
  "client_id",
  "content",
  "conversation_id",
  "created_at",
  "customer",
  "delivery_status",
  "id",
  "is_ai_response",
  "is_answered",
  "sender",
  "seq",
  "type",
];
