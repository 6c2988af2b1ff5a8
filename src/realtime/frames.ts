import type { BusEvent } from "../domain/events.js";
import type { Conversation, Message } from "../domain/types.js";
import { conversationView, isoTime, messageView } from "../domain/views.js";

// Server frames of protocol.md sections 4 and 5. Each event becomes one string, once per
// process, and that same string goes to every local socket.

export function frameFor(event: BusEvent): string {
  switch (event.kind) {
    case "message_created":
      return chatMessageFrame(event.message);
    case "message_updated":
      return JSON.stringify({ type: "message_updated", message: messageView(event.message) });
    case "typing":
      return JSON.stringify({
        type: "typing_indicator",
        conversation_id: event.conversationId,
        user_id: event.userId,
        username: event.username,
        is_typing: event.isTyping,
      });
    case "messages_read":
      return JSON.stringify({
        type: "messages_read",
        conversation_id: event.conversationId,
        user_id: event.userId,
        read_at: isoTime(event.readAt),
      });
    case "new_customer_message":
      return JSON.stringify({
        type: "new_customer_message",
        conversation_id: event.conversationId,
        message: messageView(event.message),
      });
    case "conversation_updated":
      return conversationUpdatedFrame(event.conversation);
  }
}

export const chatMessageFrame = (message: Message): string =>
  JSON.stringify({ type: "chat_message", message: messageView(message) });

export const conversationUpdatedFrame = (conversation: Conversation): string =>
  JSON.stringify({ type: "conversation_updated", conversation: conversationView(conversation) });

export const messagesFrame = (
  type: "recent_messages" | "messages",
  messages: Message[],
  hasMore: boolean,
  extra: Record<string, unknown> = {},
): string =>
  JSON.stringify({ type, messages: messages.map(messageView), has_more: hasMore, ...extra });

export const conversationsListFrame = (page: {
  conversations: Conversation[];
  hasMore: boolean;
  nextCursor: string | null;
}): string =>
  JSON.stringify({
    type: "conversations_list",
    conversations: page.conversations.map(conversationView),
    has_more: page.hasMore,
    next_cursor: page.nextCursor,
  });
