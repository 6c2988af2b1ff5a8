import type {
  AttachmentView,
  ConversationPage,
  ConversationView,
  CustomerView,
  LastMessageView,
  MessageView,
} from "../../client/wire.js";

// The key sets of the wire objects of protocol.md section 3, sorted, for exact-shape assertions.
// Written out by hand rather than derived from the views: the tests pin the contract, and each
// list is checked against the wire types, so a key the types do not know fails to compile.

export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
export const PAGE_KEYS: string[] = [
  "conversations",
  "has_more",
  "next_cursor",
] satisfies (keyof ConversationPage)[];
export const CONVERSATION_KEYS: string[] = [
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
] satisfies (keyof ConversationView)[];
export const CUSTOMER_KEYS: string[] = [
  "first_name",
  "id",
  "last_name",
  "profile_picture",
  "source",
  "username",
] satisfies (keyof CustomerView)[];
export const LAST_MESSAGE_KEYS: string[] = [
  "content",
  "created_at",
  "id",
  "type",
] satisfies (keyof LastMessageView)[];
export const MESSAGE_KEYS: string[] = [
  "attachments",
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
] satisfies (keyof MessageView)[];
export const ATTACHMENT_KEYS: string[] = [
  "address",
  "duration",
  "file_name",
  "first_name",
  "height",
  "id",
  "kind",
  "last_name",
  "latitude",
  "longitude",
  "mime_type",
  "phone_number",
  "size",
  "title",
  "url",
  "width",
] satisfies (keyof AttachmentView)[];
