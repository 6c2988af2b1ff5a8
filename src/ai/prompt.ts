import type {
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type { Message } from "../domain/types.js";

// The request of protocol.md section 11: the business's instructions as the system message,
// then the conversation oldest first (customer messages as `user`, everything we sent as
// `assistant`), and one tool through which the model asks for a person.

export const HANDOFF_TOOL_NAME = "handoff_to_human";

export const HANDOFF_TOOL: ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: HANDOFF_TOOL_NAME,
    description:
      "Hand the conversation to a human support agent: when the customer asks for a person, " +
      "when you cannot help, or when the instructions say a person must handle it.",
    parameters: {
      type: "object",
      properties: {
        reason: { type: "string", description: "Why a person should take over, in one sentence." },
      },
      required: ["reason"],
    },
  },
};

/**
 * Said before the business's own instructions: the answer goes to a chat app as it is, so it
 * must be plain text, and the tool is the way out when a person is needed.
 */
export const SYSTEM_PREAMBLE =
  "You answer customers of this business in a chat app on its behalf. Reply in plain text " +
  "without Markdown or other markup, briefly, in the customer's language. If a person should " +
  `take over, call ${HANDOFF_TOOL_NAME}; you may add a short message telling the customer so.`;

export function systemMessage(instructions: string): string {
  const own = instructions.trim();
  return own === "" ? SYSTEM_PREAMBLE : `${SYSTEM_PREAMBLE}\n\n${own}`;
}

/** `history` oldest first, as the store returns a page. */
export function buildMessages(
  instructions: string,
  history: readonly Message[],
): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [
    { role: "system", content: systemMessage(instructions) },
  ];
  for (const message of history) {
    messages.push({
      role: message.type === "customer" ? "user" : "assistant",
      content: message.content,
    });
  }
  return messages;
}
