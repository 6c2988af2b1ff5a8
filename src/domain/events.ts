import type { Conversation, Message } from "./types.js";

// Everything that travels on the bus. Events are plain JSON data so that the Redis bus can carry
// them unchanged; each process's gateway turns an event into one frame string for its sockets.

/** Events for the sockets of one conversation (topic `conversationTopic(id)`). */
export type ConversationEvent =
  | { kind: "message_created"; conversationId: string; message: Message }
  | { kind: "message_updated"; conversationId: string; message: Message }
  | {
      kind: "typing";
      conversationId: string;
      /** Null for automatic answers (username "AI"). */
      userId: number | null;
      username: string;
      isTyping: boolean;
      /** The socket that typed; it does not receive its own indicator. Empty for the model. */
      originSocketId: string;
    }
  | { kind: "messages_read"; conversationId: string; userId: number; readAt: number };

/** Events for the list sockets of one owner (topic `ownerTopic(id)`). */
export type OwnerEvent =
  | { kind: "new_customer_message"; conversationId: string; message: Message }
  | { kind: "conversation_updated"; conversation: Conversation };

export type BusEvent = ConversationEvent | OwnerEvent;

export const conversationTopic = (conversationId: string): string => `conv:${conversationId}`;
export const ownerTopic = (ownerId: number): string => `owner:${ownerId}`;
