import type { BusEvent } from "../domain/events.js";

// Bus events travel as their plain JSON. What arrives from Redis is checked here, once, so that a
// stray publisher or a half-written payload is dropped at the edge instead of failing inside a
// gateway group.

export const encodeEvent = (event: BusEvent): string => JSON.stringify(event);

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isString = (value: unknown): value is string => typeof value === "string";
const isNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

const isMessage = (value: unknown): boolean =>
  isObject(value) &&
  isString(value.id) &&
  isString(value.conversationId) &&
  isNumber(value.seq) &&
  isString(value.type) &&
  isObject(value.customer);

const isConversation = (value: unknown): boolean =>
  isObject(value) && isString(value.id) && isNumber(value.ownerId) && isObject(value.customer);

function wellFormed(event: Fields): boolean {
  switch (event.kind) {
    case "message_created":
    case "message_updated":
    case "new_customer_message":
      return isString(event.conversationId) && isMessage(event.message);
    case "typing":
      return (
        isString(event.conversationId) &&
        (isNumber(event.userId) || event.userId === null) &&
        isString(event.username) &&
        typeof event.isTyping === "boolean" &&
        isString(event.originSocketId)
      );
    case "messages_read":
      return isString(event.conversationId) && isNumber(event.userId) && isNumber(event.readAt);
    case "conversation_updated":
      return isConversation(event.conversation);
    default:
      return false;
  }
}

/** The event in `payload`, or undefined when it is not JSON or not a known event shape. */
export function decodeEvent(payload: string): BusEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !wellFormed(parsed)) return undefined;
  // The checks above cover every field the gateway reads to route and order the event.
  return parsed as BusEvent;
}
