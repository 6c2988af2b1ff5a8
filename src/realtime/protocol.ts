import { z } from "zod";
import type {
  ChatClientFrame,
  ErrorFrame,
  FrameErrorCode,
  ListClientFrame,
  Close as WireClose,
} from "../../client/wire.js";
import { CONVERSATION_STATUSES, PLATFORMS } from "../../client/wire.js";
import { MAX_CONTENT_LENGTH } from "../domain/chat-service.js";
import type { Close } from "./close-codes.js";

// Client frames of protocol.md sections 4 and 5, parsed once at the edge into discriminated
// unions; code past `parseFrame` never sees `unknown`.

export const MAX_FRAME_BYTES = 64 * 1024;
export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 100;

const limit = z.number().int().min(1).max(PAGE_LIMIT_MAX).optional();
const clientId = z.string().min(1).max(128).nullable().optional();

const chatFrames = {
  chat_message: z.object({
    type: z.literal("chat_message"),
    // The 1..4096-after-trimming rule lives in ChatService; this only bounds the raw size.
    content: z.string().max(MAX_CONTENT_LENGTH * 4),
    client_id: clientId,
  }),
  typing: z.object({ type: z.literal("typing"), is_typing: z.boolean() }),
  mark_read: z.object({ type: z.literal("mark_read") }),
  get_messages: z.object({
    type: z.literal("get_messages"),
    before_seq: z.number().int().min(1).optional(),
    limit,
  }),
};

const listFrames = {
  get_conversations: z.object({
    type: z.literal("get_conversations"),
    status: z.enum(CONVERSATION_STATUSES).nullable().optional(),
    source: z.enum(PLATFORMS).nullable().optional(),
    search: z.string().max(200).nullable().optional(),
    limit,
    cursor: z.string().max(512).nullable().optional(),
  }),
  refresh_conversations: z.object({ type: z.literal("refresh_conversations") }),
};

type Infer<T extends Record<string, z.ZodType>> = { [K in keyof T]: z.infer<T[K]> }[keyof T];
export type ChatFrame = Infer<typeof chatFrames>;
export type ListFrame = Infer<typeof listFrames>;

// The schemas above and the wire module describe the same frames: a field added, renamed or
// retyped on one side only fails the build here, in both directions.
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
export type WireChecks = [
  Assert<Equals<ChatFrame, ChatClientFrame>>,
  Assert<Equals<ListFrame, ListClientFrame>>,
  Assert<Equals<typeof Close, typeof WireClose>>,
];

export type { FrameErrorCode };
export type FrameError = Omit<ErrorFrame, "type">;
export type Parsed<F> = { ok: true; frame: F } | { ok: false; error: FrameError };

function parseWith<F>(schemas: Record<string, z.ZodType>, raw: string): Parsed<F> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: { code: "invalid_json", error: "Invalid JSON format" } };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return invalid("A frame must be a JSON object");
  }
  const type: unknown = (data as { type?: unknown }).type;
  if (typeof type !== "string") return invalid("type must be a string");
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (!schema) {
    return {
      ok: false,
      error: { code: "unknown_type", error: `Unknown message type: ${type.slice(0, 64)}` },
    };
  }
  const result = schema.safeParse(data);
  if (!result.success) return invalid(describe(result.error));
  return { ok: true, frame: result.data as F };
}

const invalid = (error: string): { ok: false; error: FrameError } => ({
  ok: false,
  error: { code: "invalid_message", error },
});

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid message";
  const path = issue.path.join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

export const parseChatFrame = (raw: string): Parsed<ChatFrame> => parseWith(chatFrames, raw);
export const parseListFrame = (raw: string): Parsed<ListFrame> => parseWith(listFrames, raw);

export { errorFrame } from "./frames.js";
