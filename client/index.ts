// The Fiko Chat client SDK: framework-free, for browsers and Node 20 (with `ws`).

export {
  ChatSession,
  type ChatState,
  MAX_CAPTION_LENGTH,
  MAX_CONTENT_LENGTH,
  type PendingFile,
  type PendingMessage,
} from "./chat-session.js";
export {
  ConversationList,
  type ConversationListState,
  type NewCustomerMessage,
} from "./conversation-list.js";
export {
  type ConversationFilter,
  compareConversations,
  matchesFilter,
  mergeConversations,
  upsertConversation,
} from "./conversation-order.js";
export { ApiError, SignedOutError } from "./errors.js";
export {
  type AuthEvent,
  type ConnectionState,
  FikoClient,
  type FikoClientOptions,
  type Registration,
} from "./fiko-client.js";
export type { FetchLike } from "./http.js";
export { readClaims, type TokenClaims } from "./jwt.js";
export type { FinalReason, SocketStatus } from "./live-socket.js";
export { DEFAULT_RECONNECT, type ReconnectOptions, ReconnectPolicy } from "./reconnect-policy.js";
export type { GetMessagesQuery, ListConversationsQuery, RestApi } from "./rest-api.js";
export type { SignOutReason } from "./token-manager.js";
export {
  browserTokenStorage,
  type KeyValueStorage,
  memoryTokenStorage,
  type StoredTokens,
  type TokenStorage,
} from "./token-storage.js";
export { TYPING_EXPIRY_MS, type TypingUser } from "./typing-tracker.js";
export type { UploadFile, UploadProgress } from "./upload.js";
export type {
  CloseEventLike,
  MessageEventLike,
  WebSocketConstructor,
  WebSocketLike,
} from "./websocket.js";
export * from "./wire.js";
