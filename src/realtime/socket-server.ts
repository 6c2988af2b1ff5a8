import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { type WebSocket, WebSocketServer } from "ws";
import { Close, CloseReason } from "./close-codes.js";
import { socketRoute } from "./socket-routes.js";

/** Each serves one socket; the promise settles when its handshake has (see `onUpgrade`). */
export interface SocketHandlers {
  chat(socket: WebSocket, conversationId: string, query: URLSearchParams): Promise<void>;
  conversations(socket: WebSocket, query: URLSearchParams): Promise<void>;
}

export interface SocketServerOptions {
  /** Largest client frame; a larger one closes the socket with 1009 (done by `ws`). */
  maxPayload: number;
  /** The origin policy of protocol.md section 9; a refused upgrade is answered 403. */
  originAllowed: (origin: string | undefined, host: string | undefined) => boolean;
  handlers: SocketHandlers;
  log: Logger;
}

/** A complete HTTP answer to an upgrade that is refused before it happens. */
function refusal(status: string, body: object): string {
  const text = JSON.stringify(body);
  return (
    `HTTP/1.1 ${status}\r\nConnection: close\r\n` +
    "Content-Type: application/json; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
  );
}

const MALFORMED = refusal("400 Bad Request", { error: "Malformed URL", code: "invalid" });
// No socket lives anywhere else: the same 404 as any unknown path, before any upgrade.
const NOT_FOUND = refusal("404 Not Found", { error: "Not found", code: "not_found" });

function refuse(socket: Duplex, answer: string): void {
  socket.on("error", () => socket.destroy());
  socket.end(answer);
}

/**
 * Upgrades straight from the HTTP server's `upgrade` event (HTTP or HTTPS alike). Through the
 * HTTP router, every connect paid for routing, hooks and response headers that an upgraded
 * socket never sends, and kept the router's request and reply alive as long as the socket.
 */
export class SocketServer {
  readonly wss: WebSocketServer;

  constructor(
    private readonly http: Server,
    private readonly options: SocketServerOptions,
  ) {
    const { originAllowed } = options;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      verifyClient: (info, callback) => {
        if (originAllowed(info.origin, info.req.headers.host)) return callback(true);
        callback(false, 403, "Origin not allowed");
      },
    });
    http.on("upgrade", this.onUpgrade);
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const route = socketRoute(req.url ?? "/");
    const { handlers } = this.options;
    switch (route.kind) {
      case "malformed":
        refuse(socket, MALFORMED);
        return;
      case "chat":
        this.upgrade(req, socket, head, (ws) =>
          handlers.chat(ws, route.conversationId, new URLSearchParams(route.query)),
        );
        return;
      case "conversations":
        this.upgrade(req, socket, head, (ws) =>
          handlers.conversations(ws, new URLSearchParams(route.query)),
        );
        return;
      case "other":
        refuse(socket, NOT_FOUND);
        return;
    }
  };

  /**
   * Upgrades the connection and has `serve` run the socket's handshake. The connection is
   * corked until that handshake settles, however it does: the 101 answer,
   * `connection_established` and the snapshot (or the refusal's close frame) then leave in one
   * write instead of three, two system calls and two TCP segments fewer per connect. An upgrade
   * that `ws` refuses never reaches `serve`: `ws` ends the connection, and ending uncorks.
   * A `serve` that throws loses its socket, never the process (this runs in an event).
   */
  private upgrade(
    req: IncomingMessage,
    connection: Duplex,
    head: Buffer,
    serve: (ws: WebSocket) => Promise<void>,
  ): void {
    connection.cork();
    const uncork = () => connection.uncork();
    this.wss.handleUpgrade(req, connection, head, (ws) => {
      try {
        serve(ws).then(uncork, uncork);
      } catch (err) {
        uncork();
        this.options.log.error({ err }, "socket setup failed");
        ws.terminate();
      }
    });
  }

  /**
   * Stops taking upgrades; sockets still open (opened while draining) go with 1001. Does not
   * wait for their closing handshakes, which a silent client could hold up for half a minute.
   */
  close(): void {
    this.http.removeListener("upgrade", this.onUpgrade);
    for (const ws of this.wss.clients) ws.close(Close.GoingAway, CloseReason[Close.GoingAway]);
    this.wss.close();
  }
}
