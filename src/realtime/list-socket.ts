import type { WebSocket } from "ws";
import type { ConversationFilter } from "../domain/types.js";
import type { SocketDeps } from "./chat-socket.js";
import { serveSocket } from "./connection.js";
import { conversationsListFrame, listEstablishedFrame } from "./frames.js";
import { errorFrame, PAGE_LIMIT_DEFAULT, parseListFrame } from "./protocol.js";

interface ListQuery {
  filter: ConversationFilter;
  limit: number;
}

/** `/ws/conversations/?token=…` */
export function serveListSocket(
  socket: WebSocket,
  query: URLSearchParams,
  deps: SocketDeps,
): Promise<void> {
  const { accounts, chat, gateway } = deps;
  // Read now: the closures below live as long as the socket, and would keep the parsed URL; the
  // token itself is let go once the handshake read it.
  let token: string | undefined = query.get("token") ?? "";
  // The filters of this socket's last get_conversations, reused by refresh_conversations.
  let last: ListQuery = { filter: {}, limit: PAGE_LIMIT_DEFAULT };

  const sendPage = async (
    userId: number,
    member: { send(frame: string): void },
    listQuery: ListQuery,
    cursor: string | null,
  ) => {
    const page = await chat.listConversations(userId, listQuery.filter, listQuery.limit, cursor);
    member.send(conversationsListFrame(page));
  };

  return serveSocket({
    socket,
    kind: "conversations",
    gateway,
    rateLimit: deps.rateLimit,
    admission: deps.admission,
    metrics: deps.metrics,
    memberOptions: deps.memberOptions,
    log: deps.log,
    open: async (member) => {
      const presented = token ?? "";
      token = undefined;
      const { user, expiresAt } = await accounts.authenticate(presented);
      await deps.admission?.admit(user.id, member.id);
      member.send(listEstablishedFrame(user.id));
      // After a bus outage the list may be stale: send it again rather than trust the pushes.
      const resyncing = Object.assign(member, {
        onResync: () => {
          sendPage(user.id, member, last, null).catch((err: unknown) =>
            deps.log.warn({ err }, "list resync failed"),
          );
        },
      });
      await gateway.joinOwner(user.id, resyncing);
      await sendPage(user.id, member, last, null);
      member.goLive(0);
      return { user, expiresAt };
    },
    onFrame: async ({ user }, member, text) => {
      const parsed = parseListFrame(text);
      deps.metrics?.frameReceived(parsed.ok ? parsed.frame.type : "invalid");
      if (!parsed.ok) return member.send(errorFrame(parsed.error));
      const frame = parsed.frame;
      if (frame.type === "refresh_conversations") return sendPage(user.id, member, last, null);
      last = {
        filter: {
          ...(frame.status ? { status: frame.status } : {}),
          ...(frame.source ? { source: frame.source } : {}),
          ...(frame.search ? { search: frame.search } : {}),
        },
        limit: frame.limit ?? PAGE_LIMIT_DEFAULT,
      };
      return sendPage(user.id, member, last, frame.cursor ?? null);
    },
    onClose: ({ user }, member) => gateway.leaveOwner(user.id, member),
  });
}
