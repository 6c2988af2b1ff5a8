// The one place the app imports the SDK from, so that the components depend on these names only.

export type {
  AiSettingsView,
  AttachmentView,
  AuthEvent,
  ChannelView,
  ChatSession,
  ChatState,
  ConnectionState,
  ConversationFilter,
  ConversationList,
  ConversationListState,
  ConversationStatus,
  ConversationView,
  CustomerView,
  MessageView,
  PendingMessage,
  Platform,
  UserView,
} from "../../client/index.js";
export {
  ApiError,
  browserTokenStorage,
  FikoClient,
  MAX_CAPTION_LENGTH,
  MAX_CONTENT_LENGTH,
} from "../../client/index.js";
