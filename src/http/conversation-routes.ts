import multipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { MessagePage, ReadReceipt } from "../../client/wire.js";
import type { ChatService } from "../domain/chat-service.js";
import { CONVERSATION_STATUSES, PLATFORMS } from "../domain/types.js";
import { conversationPageView, conversationView, isoTime, messageView } from "../domain/views.js";
import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX } from "../realtime/protocol.js";
import { currentUser, type RequireUser } from "./authenticate.js";
import { parseInput } from "./error-handler.js";
import { receiveUpload, type UploadDeps } from "./message-upload.js";

const limit = z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(PAGE_LIMIT_DEFAULT);
const seq = z.coerce.number().int().min(0);

const listQuery = z.object({
  status: z.enum(CONVERSATION_STATUSES).optional(),
  source: z.enum(PLATFORMS).optional(),
  search: z.string().max(200).optional(),
  limit,
  cursor: z.string().max(512).optional(),
});
const idParams = z.object({ id: z.string().max(64) });
const patchBody = z
  .object({
    status: z.enum(CONVERSATION_STATUSES).optional(),
    priority: z.number().int().min(0).max(1000).optional(),
  })
  .refine((b) => b.status !== undefined || b.priority !== undefined, "status or priority required");
const historyQuery = z.object({ before_seq: seq.optional(), after_seq: seq.optional(), limit });
const messageBody = z.object({
  content: z.string().max(16384),
  client_id: z.string().min(1).max(128).nullable().optional(),
});

/**
 * Drops empty query parameters: `?status=&limit=` (the contract's own URL template, and what a
 * form with blank fields sends) means "no filter, default limit", not an invalid status.
 */
function presentOnly(query: unknown): unknown {
  if (typeof query !== "object" || query === null) return query;
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ""));
}

/** protocol.md section 8: another user's conversation answers 404. */
export async function conversationRoutes(
  app: FastifyInstance,
  opts: { chat: ChatService; requireUser: RequireUser; upload: Omit<UploadDeps, "chat"> },
): Promise<void> {
  const { chat } = opts;
  app.addHook("preHandler", opts.requireUser);
  // Streams only (no body attached): an upload goes straight into the file store. One byte
  // over the limit lets the store see the excess and answer 413 with nothing kept.
  await app.register(multipart, {
    limits: { files: 1, fields: 8, parts: 10, fileSize: opts.upload.maxUploadBytes + 1 },
  });

  app.get("/api/conversations/", async (request) => {
    const q = parseInput(listQuery, presentOnly(request.query));
    const { status, source, search } = q;
    const filter = {
      ...(status && { status }),
      ...(source && { source }),
      ...(search && { search }),
    };
    const page = await chat.listConversations(
      currentUser(request).id,
      filter,
      q.limit,
      q.cursor ?? null,
    );
    return conversationPageView(page);
  });

  app.get("/api/conversations/:id/", async (request) => {
    const { id } = parseInput(idParams, request.params);
    return conversationView(await chat.requireConversation(currentUser(request).id, id));
  });

  app.patch("/api/conversations/:id/", async (request) => {
    const { id } = parseInput(idParams, request.params);
    const changes = parseInput(patchBody, request.body);
    return conversationView(await chat.updateConversation(currentUser(request).id, id, changes));
  });

  app.get("/api/conversations/:id/messages/", async (request) => {
    const { id } = parseInput(idParams, request.params);
    const q = parseInput(historyQuery, presentOnly(request.query));
    const page = await chat.history(currentUser(request).id, id, {
      limit: q.limit,
      ...(q.after_seq !== undefined && { afterSeq: q.after_seq }),
      ...(q.before_seq !== undefined && { beforeSeq: q.before_seq }),
    });
    const answer: MessagePage = {
      messages: page.messages.map(messageView),
      has_more: page.hasMore,
    };
    return answer;
  });

  app.post("/api/conversations/:id/messages/", async (request, reply) => {
    const { id } = parseInput(idParams, request.params);
    const user = currentUser(request);
    if (request.isMultipart()) {
      const actor = { id: user.id, username: user.username };
      const result = await receiveUpload(request, actor, id, { chat, ...opts.upload });
      return reply.status(result.duplicate ? 200 : 201).send(messageView(result.message));
    }
    const body = parseInput(messageBody, request.body);
    const result = await chat.sendMessage({ id: user.id, username: user.username }, id, {
      content: body.content,
      clientId: body.client_id ?? null,
    });
    // 200 for a retry that stored nothing new, 201 for a new message.
    return reply.status(result.duplicate ? 200 : 201).send(messageView(result.message));
  });

  app.post("/api/conversations/:id/read/", async (request) => {
    const { id } = parseInput(idParams, request.params);
    const user = currentUser(request);
    const { readAt } = await chat.markRead({ id: user.id, username: user.username }, id);
    const receipt: ReadReceipt = {
      conversation_id: id,
      user_id: user.id,
      read_at: isoTime(readAt),
    };
    return receipt;
  });
}
