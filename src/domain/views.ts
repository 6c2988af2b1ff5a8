import type { Conversation, Customer, Message, User } from "./types.js";

// Wire shapes of protocol.md section 3: snake_case, ISO 8601 UTC times with milliseconds.

export const isoTime = (ms: number): string => new Date(ms).toISOString();

export interface CustomerView {
  id: number;
  first_name: string;
  last_name: string;
  username: string | null;
  source: string;
  profile_picture: string | null;
}

export interface MessageView {
  id: string;
  conversation_id: string;
  seq: number;
  content: string;
  type: string;
  customer: CustomerView;
  sender: { id: number; username: string } | null;
  is_ai_response: boolean;
  is_answered: boolean;
  delivery_status: string;
  delivery_error?: string;
  client_id: string | null;
  created_at: string;
}

export interface ConversationView {
  id: string;
  title: string;
  status: string;
  source: string;
  customer: CustomerView;
  priority: number;
  created_at: string;
  updated_at: string;
  last_message: { id: string; content: string; type: string; created_at: string } | null;
  unread_count: number;
}

export const customerView = (c: Customer): CustomerView => ({
  id: c.id,
  first_name: c.firstName,
  last_name: c.lastName,
  username: c.username,
  source: c.source,
  profile_picture: c.profilePicture,
});

export function messageView(m: Message): MessageView {
  const view: MessageView = {
    id: m.id,
    conversation_id: m.conversationId,
    seq: m.seq,
    content: m.content,
    type: m.type,
    customer: customerView(m.customer),
    sender: m.sender ? { id: m.sender.id, username: m.sender.username } : null,
    is_ai_response: m.isAiResponse,
    is_answered: m.isAnswered,
    delivery_status: m.deliveryStatus,
    client_id: m.clientId,
    created_at: isoTime(m.createdAt),
  };
  // Present only on failed deliveries, as the contract describes it.
  if (m.deliveryError !== null) view.delivery_error = m.deliveryError;
  return view;
}

export const conversationView = (c: Conversation): ConversationView => ({
  id: c.id,
  title: c.title,
  status: c.status,
  source: c.source,
  customer: customerView(c.customer),
  priority: c.priority,
  created_at: isoTime(c.createdAt),
  updated_at: isoTime(c.updatedAt),
  last_message: c.lastMessage
    ? {
        id: c.lastMessage.id,
        content: c.lastMessage.content,
        type: c.lastMessage.type,
        created_at: isoTime(c.lastMessage.createdAt),
      }
    : null,
  unread_count: c.unreadCount,
});

export const userView = (u: User) => ({
  id: u.id,
  username: u.username,
  first_name: u.firstName,
  last_name: u.lastName,
});
