import type {
  ChatConnectionEstablishedFrame,
  ChatServerFrame,
  ConversationsListFrame,
  ErrorFrame,
  ListConnectionEstablishedFrame,
  ListServerFrame,
  MessagesFrame,
  RecentMessagesFrame,
} from "../../client/wire.js";
import type { BusEvent } from "../domain/events.js";
import type { Conversation, ConversationPage, Message } from "../domain/types.js";
import { conversationPageView, conversationView, isoTime, messageView } from "../domain/views.js";

// Server frames of protocol.md sections 4 and 5. Each event becomes one string, once per
// process, and that same string goes to every local socket. Every object is typed as a member
// of the wire module's frame unions before it is serialized, so the server cannot send a frame
// that clients do not know.

const chat = (frame: ChatServerFrame): string => JSON.stringify(frame);
const list = (frame: ListServerFrame): string => JSON.stringify(frame);

export function frameFor(event: BusEvent): string {
  switch (event.kind) {
    case "message_created":
      return chatMessageFrame(event.message);
    case "message_updated":
      return chat({ type: "message_updated", message: messageView(event.message) });
    case "typing":
      return chat({
        type: "typing_indicator",
        conversation_id: event.conversationId,
        user_id: event.userId,
        username: event.username,
        is_typing: event.isTyping,
      });
    case "messages_read":
      return chat({
        type: "messages_read",
        conversation_id: event.conversationId,
        user_id: event.userId,
        read_at: isoTime(event.readAt),
      });
    case "new_customer_message":
      return list({
        type: "new_customer_message",
        conversation_id: event.conversationId,
        message: messageView(event.message),
      });
    case "conversation_updated":
      return conversationUpdatedFrame(event.conversation);
  }
}

export const chatMessageFrame = (message: Message): string =>
  chat({ type: "chat_message", message: messageView(message) });

export const conversationUpdatedFrame = (conversation: Conversation): string =>
  list({ type: "conversation_updated", conversation: conversationView(conversation) });

/** `recent_messages` (with `resumed: true` after `after_seq`) or the `messages` answer. */
export function messagesFrame(
  type: "recent_messages" | "messages",
  messages: Message[],
  hasMore: boolean,
  options: { resumed?: boolean } = {},
): string {
  const views = messages.map(messageView);
  if (type === "messages") {
    const frame: MessagesFrame = { type, messages: views, has_more: hasMore };
    return chat(frame);
  }
  const frame: RecentMessagesFrame = { type, messages: views, has_more: hasMore };
  if (options.resumed) frame.resumed = true;
  return chat(frame);
}

export const conversationsListFrame = (page: ConversationPage): string => {
  const frame: ConversationsListFrame = {
    type: "conversations_list",
    ...conversationPageView(page),
  };
  return list(frame);
};

export const chatEstablishedFrame = (conversationId: string, userId: number): string => {
  const frame: ChatConnectionEstablishedFrame = {
    type: "connection_established",
    conversation_id: conversationId,
    user_id: userId,
  };
  return chat(frame);
};

export const listEstablishedFrame = (userId: number): string => {
  const frame: ListConnectionEstablishedFrame = { type: "connection_established", user_id: userId };
  return list(frame);
};

/** The error frame of section 6. */
export const errorFrame = (error: Omit<ErrorFrame, "type">): string => {
  const frame: ErrorFrame = { type: "error", code: error.code, error: error.error };
  return chat(frame);
};
