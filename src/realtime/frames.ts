import type {
  ChatConnectionEstablishedFrame,
  ChatServerFrame,
  ConversationsListFrame,
  ErrorFrame,
  ListConnectionEstablishedFrame,
  ListServerFrame,
} from "../../client/wire.js";
import type { BusEvent } from "../domain/events.js";
import type { Conversation, ConversationPage, Message } from "../domain/types.js";
import {
  conversationPageView,
  conversationView,
  isoTime,
  messageJson,
  messagesJson,
  messageView,
} from "../domain/views.js";

// Server frames of protocol.md sections 4 and 5. Each event becomes one string, once per
// process, and that same string goes to every local socket. Every object is typed as a member
// of the wire module's frame unions before it is serialized, so the server cannot send a frame
// that clients do not know. The two frames that carry whole messages (`chat_message`, the
// pages) are written as text instead, the messages by views.ts's writers; tests hold them
// equal to the serialized typed frames.

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

/** `ChatMessageFrame`'s JSON, its message written by `messageJson` (one per stored message). */
export const chatMessageFrame = (message: Message): string =>
  `{"type":"chat_message","message":${messageJson(message)}}`;

export const conversationUpdatedFrame = (conversation: Conversation): string =>
  list({ type: "conversation_updated", conversation: conversationView(conversation) });

/**
 * `recent_messages` (with `resumed: true` after `after_seq`) or the `messages` answer: the JSON
 * of `RecentMessagesFrame` / `MessagesFrame`, fields in that order, the messages written by
 * `messagesJson` (a snapshot is the largest frame of a connect; see views.ts).
 */
export function messagesFrame(
  type: "recent_messages" | "messages",
  messages: Message[],
  hasMore: boolean,
  options: { resumed?: boolean } = {},
): string {
  const resumed = type === "recent_messages" && options.resumed === true ? ',"resumed":true' : "";
  return `{"type":"${type}","messages":${messagesJson(messages)},"has_more":${hasMore}${resumed}}`;
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
