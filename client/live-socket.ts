import { SignedOutError } from "./errors.js";
import type { ReconnectPolicy } from "./reconnect-policy.js";
import type { TokenManager } from "./token-manager.js";
import type { WebSocketConstructor, WebSocketLike } from "./websocket.js";
import { Close } from "./wire.js";

/**
 * The life of one logical socket:
 * - `connecting`: never in sync yet;
 * - `open`: connected and caught up (the owner said so with `ready()`);
 * - `reconnecting`: was open, dropped, and not caught up again yet;
 * - `closed`: for good (closed by the app, 4003, signed out).
 */
export type SocketStatus = "connecting" | "open" | "reconnecting" | "closed";

/** Why a socket closed for good. */
export type FinalReason = "closed" | "forbidden" | "signed_out";

/** What the owner of a {@link LiveSocket} (a chat, a list) plugs in. */
export interface LiveSocketHooks<F> {
  /** The URL for the next attempt, with this access token. */
  url(token: string): string;
  /** The transport is open; the owner sends what it needs to catch up. */
  onConnected(): void;
  onFrame(frame: F): void;
  /** The transport closed (a reconnect follows unless the status became `closed`). */
  onDisconnected(): void;
  onStatus(status: SocketStatus): void;
  /** Closed for good; not called for `close()` by the app itself. */
  onFinal(reason: FinalReason): void;
}

// Close codes that end a socket's life, with no retry.
const FINAL_CODES: ReadonlyMap<number, FinalReason> = new Map([[Close.Forbidden, "forbidden"]]);

/**
 * One socket that reconnects by itself with the shared {@link ReconnectPolicy}, refreshes the
 * token on 4001 and parses frames into the owner's frame union. Chat sessions and conversation
 * lists both sit on it.
 */
export class LiveSocket<F extends { type: string }, Out> {
  private socket: WebSocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private everReady = false;
  private current: SocketStatus = "connecting";

  constructor(
    private readonly deps: {
      WebSocket: WebSocketConstructor;
      tokens: TokenManager;
      policy: ReconnectPolicy;
    },
    private readonly hooks: LiveSocketHooks<F>,
  ) {}

  /** The state of this socket. */
  get status(): SocketStatus {
    return this.current;
  }

  /** Opens the first connection. */
  start(): void {
    void this.connect();
  }

  /** Sends a frame if the transport is open; `false` when it is not (the owner retries later). */
  send(frame: Out): boolean {
    const socket = this.socket;
    if (!socket || this.transportOpen !== socket) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  /** The owner caught up after connecting: the socket is `open`. */
  ready(): void {
    if (this.current === "closed" || !this.socket) return;
    this.everReady = true;
    this.deps.policy.opened();
    this.setStatus("open");
  }

  /** Closes for good (no final hook: the app asked for it). */
  close(): void {
    this.finish(null);
  }

  /** Closes for good because the user signed out. */
  signedOut(): void {
    this.finish("signed_out");
  }

  // The socket whose `open` event fired; frames are sent only to it.
  private transportOpen: WebSocketLike | null = null;

  private async connect(): Promise<void> {
    if (this.current === "closed") return;
    let token: string;
    try {
      token = await this.deps.tokens.accessToken();
    } catch (err) {
      if (err instanceof SignedOutError) return this.finish("signed_out");
      return this.retryLater();
    }
    if (this.isClosed()) return;
    let socket: WebSocketLike;
    try {
      socket = new this.deps.WebSocket(this.hooks.url(token));
    } catch {
      // A constructor that throws (a page refusing the URL) is one more failed attempt.
      return this.retryLater();
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.transportOpen = socket;
      this.hooks.onConnected();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket || typeof event.data !== "string") return;
      const frame = parseFrame<F>(event.data);
      if (frame) this.hooks.onFrame(frame);
    };
    // A failed connection reports an error and then a close: the close does the work.
    socket.onerror = () => undefined;
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.transportOpen = null;
      this.deps.policy.closed();
      const final = FINAL_CODES.get(event.code);
      if (final) return this.finish(final);
      if (this.current === "closed") return;
      this.setStatus(this.everReady ? "reconnecting" : "connecting");
      this.hooks.onDisconnected();
      if (event.code === Close.Unauthorized) void this.reauthorize(token);
      else this.retryLater();
    };
  }

  /** 4001: the token expired or was refused; get a newer one, then reconnect. */
  private async reauthorize(token: string): Promise<void> {
    try {
      await this.deps.tokens.rejected(token);
    } catch (err) {
      if (err instanceof SignedOutError) return this.finish("signed_out");
    }
    this.retryLater();
  }

  private retryLater(): void {
    if (this.current === "closed") return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.deps.policy.nextDelay());
  }

  private finish(reason: FinalReason | null): void {
    if (this.current === "closed") return;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    this.transportOpen = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onopen = null;
      try {
        socket.close(1000, "closed");
      } catch {
        // Closing a socket that is still connecting throws in some browsers; it is gone anyway.
      }
    }
    // The final reason first: whoever sees `closed` can already read why.
    if (reason && reason !== "closed") this.hooks.onFinal(reason);
    this.setStatus("closed");
    if (socket) this.hooks.onDisconnected();
  }

  // A method, so the compiler does not narrow `current` across the awaits above.
  private isClosed(): boolean {
    return this.current === "closed";
  }

  private setStatus(status: SocketStatus): void {
    if (this.current === status) return;
    this.current = status;
    this.hooks.onStatus(status);
  }
}

function parseFrame<F extends { type: string }>(text: string): F | null {
  try {
    const data: unknown = JSON.parse(text);
    if (typeof data !== "object" || data === null) return null;
    if (typeof (data as { type?: unknown }).type !== "string") return null;
    // The server's frames are typed against the same union (src/realtime/frames.ts).
    return data as F;
  } catch {
    return null;
  }
}
