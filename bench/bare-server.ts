// The yardstick: a bare `ws` broadcast server with the same sockets, paths and frames as Fiko
// but no authentication, no store and no platform calls. Messages live in memory (the last 50
// per conversation, for the connect snapshot). Started by the bench as a child process:
//
//   PORT=9000 node --import tsx bench/bare-server.ts
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";

interface Customer {
  id: number;
  first_name: string;
  last_name: string;
  username: string | null;
  source: "telegram";
  profile_picture: null;
}

interface Conversation {
  id: string;
  customer: Customer;
  seq: number;
  recent: object[];
  sockets: Set<WebSocket>;
  createdAt: string;
}

const conversations = new Map<string, Conversation>();
const listSockets = new Set<WebSocket>();
let nextId = 1;

function conversationFor(from: {
  id: number;
  first_name?: string;
  last_name?: string;
  username?: string;
}): Conversation {
  const id = `conv_${from.id}`;
  let found = conversations.get(id);
  if (!found) {
    found = {
      id,
      customer: {
        id: from.id,
        first_name: from.first_name ?? "",
        last_name: from.last_name ?? "",
        username: from.username ?? null,
        source: "telegram",
        profile_picture: null,
      },
      seq: 0,
      recent: [],
      sockets: new Set(),
      createdAt: new Date().toISOString(),
    };
    conversations.set(id, found);
  }
  return found;
}

function publish(
  conversation: Conversation,
  content: string,
  kind: "customer" | "support",
  clientId: string | null,
): void {
  const createdAt = new Date().toISOString();
  const message = {
    id: `m${nextId++}`,
    conversation_id: conversation.id,
    seq: ++conversation.seq,
    content,
    type: kind,
    customer: conversation.customer,
    sender: kind === "support" ? { id: 1, username: "agent" } : null,
    is_ai_response: false,
    is_answered: kind !== "customer",
    delivery_status: kind === "customer" ? "received" : "pending",
    client_id: clientId,
    attachments: [],
    created_at: createdAt,
  };
  conversation.recent.push(message);
  if (conversation.recent.length > 50) conversation.recent.shift();
  const frame = JSON.stringify({ type: "chat_message", message });
  for (const socket of conversation.sockets) socket.send(frame);
  const updated = JSON.stringify({
    type: "conversation_updated",
    conversation: {
      id: conversation.id,
      title: `telegram - ${conversation.customer.first_name} ${conversation.customer.last_name}`,
      status: "support_active",
      source: "telegram",
      customer: conversation.customer,
      priority: 1,
      created_at: conversation.createdAt,
      updated_at: createdAt,
      last_message: { id: message.id, content, type: kind, created_at: createdAt },
      unread_count: 0,
    },
  });
  const announced =
    kind === "customer"
      ? JSON.stringify({ type: "new_customer_message", conversation_id: conversation.id, message })
      : undefined;
  for (const socket of listSockets) {
    if (announced) socket.send(announced);
    socket.send(updated);
  }
}

function webhook(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    try {
      const update = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        message?: { text?: string; from?: { id: number; first_name?: string } };
      };
      const from = update.message?.from;
      if (!from) throw new Error("no sender");
      publish(conversationFor(from), update.message?.text ?? "", "customer", null);
      res.writeHead(200, { "content-length": "0" }).end();
    } catch {
      res.writeHead(400, { "content-length": "0" }).end();
    }
  });
}

const http = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
  } else if (req.method === "POST" && req.url === "/webhook") {
    webhook(req, res);
  } else {
    res.writeHead(404).end();
  }
});
http.keepAliveTimeout = 60_000;

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
http.on("upgrade", (req, socket, head) => {
  const path = new URL(req.url ?? "/", "http://bare").pathname;
  const chat = path.match(/^\/ws\/chat\/([A-Za-z0-9_-]+)\/?$/);
  const conversation = chat?.[1] ? conversations.get(chat[1]) : undefined;
  const isList = /^\/ws\/conversations\/?$/.test(path);
  if (!conversation && !isList) {
    socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (conversation) openChat(ws, conversation);
    else openList(ws);
  });
});

function openChat(ws: WebSocket, conversation: Conversation): void {
  conversation.sockets.add(ws);
  ws.send(
    JSON.stringify({
      type: "connection_established",
      conversation_id: conversation.id,
      user_id: 1,
    }),
  );
  ws.send(
    JSON.stringify({
      type: "recent_messages",
      messages: conversation.recent,
      has_more: conversation.seq > 50,
    }),
  );
  ws.on("message", (data) => {
    try {
      const frame = JSON.parse(String(data)) as {
        type?: string;
        content?: string;
        client_id?: string;
      };
      if (frame.type === "chat_message" && typeof frame.content === "string") {
        publish(conversation, frame.content, "support", frame.client_id ?? null);
      }
    } catch {
      ws.send('{"type":"error","code":"invalid_json","error":"Invalid JSON format"}');
    }
  });
  ws.on("close", () => conversation.sockets.delete(ws));
}

function openList(ws: WebSocket): void {
  listSockets.add(ws);
  ws.send(JSON.stringify({ type: "connection_established", user_id: 1 }));
  ws.send(
    JSON.stringify({
      type: "conversations_list",
      conversations: [],
      has_more: false,
      next_cursor: null,
    }),
  );
  ws.on("close", () => listSockets.delete(ws));
}

http.listen(Number(process.env.PORT ?? 9000), "127.0.0.1");
process.on("SIGTERM", () => {
  for (const client of wss.clients) client.terminate();
  http.close(() => process.exit(0));
});
