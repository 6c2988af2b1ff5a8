import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { AccountService } from "../auth/account-service.js";
import type { ChatService } from "../domain/chat-service.js";
import { ID_PATTERN } from "../domain/ids.js";
import { NotFoundError } from "../errors.js";
import type { Metrics } from "../metrics/metrics.js";
import { type Session, serveSocket } from "./connection.js";
import type { FrameRateLimit } from "./frame-rate-limit.js";
import { chatEstablishedFrame, chatMessageFrame, messagesFrame } from "./frames.js";
import type { Gateway } from "./gateway.js";
import { errorFrame, PAGE_LIMIT_DEFAULT, parseChatFrame } from "./protocol.js";
import { sendRecent } from "./recent-snapshots.js";
import type { SocketAdmission } from "./socket-admission.js";
import type { MemberOptions, SocketMember } from "./socket-member.js";

/** The snapshot sizes of protocol.md section 4. */
export const RECENT_LIMIT = 50;
export const RESUME_LIMIT = 500;

export interface SocketDeps {
  accounts: AccountService;
  chat: ChatService;
  gateway: Gateway;
  rateLimit: FrameRateLimit;
  admission: SocketAdmission | undefined;
  metrics: Metrics | undefined;
  /** What every socket member shares (its send buffer limit, the sent-frames counter). */
  memberOptions: MemberOptions;
  log: Logger;
}

/** `/ws/chat/{conversation_id}/?token=…[&after_seq=N]` */
export function serveChatSocket(
  socket: WebSocket,
  conversationId: string,
  query: URLSearchParams,
  deps: SocketDeps,
): Promise<void> {
  return serveSocket({
    socket,
    kind: "chat",
    gateway: deps.gateway,
    rateLimit: deps.rateLimit,
    admission: deps.admission,
    metrics: deps.metrics,
    memberOptions: deps.memberOptions,
    log: deps.log,
    logContext: { conversation: conversationId },
    // Its own scope: the closures kept for the socket's life do not keep the token.
    open: chatHandshake(conversationId, query.get("token") ?? "", query.get("after_seq"), deps),
    onFrame: (session, member, text) => onChatFrame(conversationId, deps, session, member, text),
    onClose: (_session, member) => deps.gateway.leaveConversation(conversationId, member),
  });
}

function chatHandshake(
  conversationId: string,
  token: string,
  afterSeqParam: string | null,
  deps: SocketDeps,
): (member: SocketMember) => Promise<Session> {
  const { accounts, chat, gateway } = deps;
  return async (member) => {
    // An id that cannot exist is looked up as none, so it is refused like a missing one.
    const lookup = ID_PATTERN.test(conversationId) ? conversationId : "";
    const { user, expiresAt, conversation } = await accounts.authenticateWithConversation(
      token,
      lookup,
    );
    await deps.admission?.admit(user.id, member.id);
    if (!conversation) throw new NotFoundError("Conversation not found");
    const afterSeq = parseAfterSeq(afterSeqParam);
    member.send(chatEstablishedFrame(conversationId, user.id));
    if (afterSeq === null) {
      member.send(
        errorFrame({ code: "invalid_message", error: "after_seq must be a whole number >= 0" }),
      );
    }
    // Join before reading the snapshot: frames stored meanwhile are held, none is missed.
    const recent = await gateway.joinConversation(conversationId, member);
    // The customer was read with the conversation a moment ago: the snapshot reuses it.
    const { customer } = conversation;
    if (afterSeq !== undefined && afterSeq !== null) {
      const page = await chat.readMessages(conversationId, {
        afterSeq,
        limit: RESUME_LIMIT,
        customer,
      });
      member.send(messagesFrame("recent_messages", page.messages, page.hasMore, { resumed: true }));
      member.goLive(page.messages.at(-1)?.seq ?? Math.min(afterSeq, conversation.lastSeq));
    } else {
      await sendRecent(recent, customer, member, () =>
        chat.readMessages(conversationId, { limit: RECENT_LIMIT, customer }),
      );
    }
    return { user, expiresAt };
  };
}

async function onChatFrame(
  conversationId: string,
  { chat, metrics }: SocketDeps,
  { user }: Session,
  member: SocketMember,
  text: string,
): Promise<void> {
  const parsed = parseChatFrame(text);
  metrics?.frameReceived(parsed.ok ? parsed.frame.type : "invalid");
  if (!parsed.ok) return member.send(errorFrame(parsed.error));
  const frame = parsed.frame;
  const actor = { id: user.id, username: user.username };
  switch (frame.type) {
    case "chat_message": {
      const result = await chat.sendMessage(actor, conversationId, {
        content: frame.content,
        clientId: frame.client_id ?? null,
      });
      // A retry: everyone saw the original; only the retrying socket needs an answer.
      if (result.duplicate) member.send(chatMessageFrame(result.message));
      return;
    }
    case "typing":
      return chat.typing(actor, conversationId, frame.is_typing, member.id);
    case "mark_read":
      await chat.markRead(actor, conversationId);
      return;
    case "get_messages": {
      const limit = frame.limit ?? PAGE_LIMIT_DEFAULT;
      const page = await chat.readMessages(
        conversationId,
        frame.before_seq === undefined ? { limit } : { beforeSeq: frame.before_seq, limit },
      );
      return member.send(messagesFrame("messages", page.messages, page.hasMore));
    }
  }
}

/** undefined: absent; null: present but not a whole number >= 0. */
function parseAfterSeq(raw: string | null): number | undefined | null {
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,15}$/.test(raw)) return null;
  return Number(raw);
}
