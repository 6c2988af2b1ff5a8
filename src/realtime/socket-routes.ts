// The two socket paths of protocol.md sections 4 and 5, matched on the raw request URL the way
// the HTTP router matched them before upgrades were taken off it: case-sensitive, one trailing
// slash optional, the conversation id percent-decoded.

export type SocketRoute =
  | { kind: "chat"; conversationId: string; query: string }
  | { kind: "conversations"; query: string }
  /** Any other path: answered 404, no upgrade. */
  | { kind: "other" }
  /** A malformed percent escape: answered 400 before any upgrade, as the router did. */
  | { kind: "malformed" };

const CHAT_PREFIX = "/ws/chat/";
const LIST_PATH = "/ws/conversations";

export function socketRoute(url: string): SocketRoute {
  const mark = url.indexOf("?");
  let path = mark === -1 ? url : url.slice(0, mark);
  const query = mark === -1 ? "" : url.slice(mark + 1);
  if (path.includes("%") && !decodes(path)) return { kind: "malformed" };
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  if (path === LIST_PATH) return { kind: "conversations", query };
  if (path.startsWith(CHAT_PREFIX)) {
    const raw = path.slice(CHAT_PREFIX.length);
    if (raw.includes("/")) return { kind: "other" };
    // An empty id reaches the handshake, which refuses it (4003) like any unknown id.
    const conversationId = raw.includes("%") ? decodeURIComponent(raw) : raw;
    return { kind: "chat", conversationId, query };
  }
  return { kind: "other" };
}

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
