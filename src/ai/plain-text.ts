import { MAX_CONTENT_LENGTH } from "../domain/chat-service.js";

// The model's answer reaches the customer as plain text (never with a parse mode), so markup
// would show as stray asterisks and brackets. Models add Markdown even when told not to; this
// takes off the common forms and keeps the words (and link targets) intact.

const RULES: ReadonlyArray<[RegExp, string]> = [
  [/^```[^\n]*\n?/gm, ""], // code fence lines
  [/!\[([^\]]*)\]\(([^)\s]+)\)/g, "$1 ($2)"], // images
  [/\[([^\]]+)\]\(([^)\s]+)\)/g, "$1 ($2)"], // links
  [/^#{1,6}[ \t]+/gm, ""], // headings
  [/^>[ \t]?/gm, ""], // quotes
  [/^([ \t]*)[*+][ \t]+/gm, "$1- "], // bullets
  [/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "$2"], // bold
  [/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\w)/g, "$1$2"], // italic with asterisks
  [/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?![\w])/g, "$1$2"], // italic with underscores
  [/~~(?=\S)([^~\n]*?\S)~~/g, "$1"], // strike-through
  [/`([^`\n]+)`/g, "$1"], // inline code
  [/<\/?(?:b|i|u|s|em|strong|code|pre|p|span)\b[^>]*>/gi, ""], // simple HTML tags
  [/<br\s*\/?>/gi, "\n"],
  [/\n{3,}/g, "\n\n"],
];

/** The answer as plain text within the message length limit; empty when nothing is left. */
export function plainText(answer: string): string {
  let text = answer.replace(/\r\n?/g, "\n");
  for (const [pattern, replacement] of RULES) text = text.replace(pattern, replacement);
  text = text.trim();
  return text.length > MAX_CONTENT_LENGTH ? text.slice(0, MAX_CONTENT_LENGTH).trimEnd() : text;
}
