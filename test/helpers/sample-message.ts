import type { Customer, Message } from "../../src/domain/types.js";

// A message as the domain holds it, for tests of code that only carries messages (the bus,
// the ordering group, the frame writers); each test overrides what it looks at.

export const sampleCustomer: Customer = {
  id: 1,
  ownerId: 7,
  source: "telegram",
  externalId: "1001",
  firstName: "John",
  lastName: "Doe",
  username: null,
  profilePicture: null,
  createdAt: 1_700_000_000_000,
};

export function sampleMessage(overrides: Partial<Message> = {}): Message {
  return {
    id: "m_1",
    conversationId: "c_1",
    seq: 1,
    content: "Hello",
    type: "customer",
    customer: sampleCustomer,
    sender: null,
    isAiResponse: false,
    isAnswered: false,
    deliveryStatus: "received",
    deliveryError: null,
    clientId: null,
    attachments: [],
    createdAt: 1_700_000_000_123,
    ...overrides,
  };
}
