import { ChatSession } from "./chat-session.js";
import { ConversationList } from "./conversation-list.js";
import type { ConversationFilter } from "./conversation-order.js";
import { ApiError, SignedOutError } from "./errors.js";
import { type FetchLike, requestJson } from "./http.js";
import { Listeners } from "./listeners.js";
import type { SocketStatus } from "./live-socket.js";
import { type ReconnectOptions, ReconnectPolicy } from "./reconnect-policy.js";
import { RestApi } from "./rest-api.js";
import { type SignOutReason, TokenManager } from "./token-manager.js";
import { memoryTokenStorage, type TokenStorage } from "./token-storage.js";
import type { WebSocketConstructor } from "./websocket.js";
import type { TokenPair, UserView } from "./wire.js";

/** Options of {@link FikoClient}. */
export interface FikoClientOptions {
  /** The server's base URL; `""` means the page's own origin (browser only). */
  baseUrl: string;
  /** The WebSocket class; `globalThis.WebSocket` by default. Node passes `ws`. */
  WebSocket?: WebSocketConstructor;
  /** `globalThis.fetch` by default. */
  fetch?: FetchLike;
  /** Where tokens live; in memory by default, `browserTokenStorage(localStorage)` in the inbox. */
  storage?: TokenStorage;
  /** Reconnect backoff; see {@link ReconnectOptions}. */
  reconnect?: Partial<ReconnectOptions>;
}

/** A change of who is signed in. */
export type AuthEvent =
  | { type: "signed_in"; user: UserView }
  | { type: "signed_out"; reason: SignOutReason };

/**
 * All live sockets together: `reconnecting` from the moment any socket that was open drops
 * until it is open again and caught up; `idle` when no socket is open.
 */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting";

/** Fields of `POST /api/auth/register/`. */
export interface Registration {
  username: string;
  password: string;
  first_name?: string;
  last_name?: string;
}

/**
 * The entry point of the SDK: accounts and tokens, the typed REST API, live conversation
 * lists and chats. Works in browsers and in Node 20 (pass `ws` as `WebSocket`).
 */
export class FikoClient {
  /** The typed REST API; the bearer token and its refresh are handled. */
  readonly api: RestApi;
  private readonly tokens: TokenManager;
  private readonly fetchImpl: FetchLike;
  private readonly WebSocketImpl: WebSocketConstructor | undefined;
  private readonly wsUrl: string;
  private readonly auth = new Listeners<[AuthEvent]>();
  private readonly connectionListeners = new Listeners<[ConnectionState]>();
  private readonly chats = new Set<ChatSession>();
  private readonly lists = new Set<ConversationList>();
  private currentUser: UserView | null = null;
  private currentConnection: ConnectionState = "idle";

  constructor(private readonly options: FikoClientOptions) {
    // Called through a plain function: browsers refuse `fetch` called as another object's method.
    this.fetchImpl = (input, init) => (options.fetch ?? globalThis.fetch)(input, init);
    this.WebSocketImpl = options.WebSocket ?? globalWebSocket();
    this.wsUrl = webSocketBase(options.baseUrl);
    this.tokens = new TokenManager({
      baseUrl: options.baseUrl,
      fetch: this.fetchImpl,
      storage: options.storage ?? memoryTokenStorage(),
      onSignedOut: (reason) => this.endSession(reason),
    });
    this.api = new RestApi({
      baseUrl: options.baseUrl,
      fetch: this.fetchImpl,
      tokens: this.tokens,
    });
  }

  /** The signed-in user, or `null`. */
  get user(): UserView | null {
    return this.currentUser;
  }

  /** The sockets' aggregate state. */
  get connection(): ConnectionState {
    return this.currentConnection;
  }

  /**
   * Signs in again with the stored tokens (refreshing the access token if needed).
   * Resolves with the user, or `null` when there are no usable tokens.
   */
  async restore(): Promise<UserView | null> {
    if (!this.tokens.tokens) return null;
    try {
      const user = await this.api.me();
      this.tokens.start();
      this.signedIn(user);
      return user;
    } catch (err) {
      if (err instanceof SignedOutError || (err instanceof ApiError && err.status === 401)) {
        this.tokens.clear();
        return null;
      }
      throw err;
    }
  }

  /** Signs in; throws {@link ApiError} (401 `invalid_credentials`, 429 `rate_limited`, ...). */
  async signIn(username: string, password: string): Promise<UserView> {
    const pair = await requestJson<TokenPair>(
      this.fetchImpl,
      this.options.baseUrl,
      "POST",
      "/api/auth/token/",
      { body: { username, password } },
    );
    this.tokens.set(pair);
    const user = await this.api.me();
    this.signedIn(user);
    return user;
  }

  /** Creates an account and signs in with it. */
  async register(registration: Registration): Promise<UserView> {
    await requestJson<UserView>(
      this.fetchImpl,
      this.options.baseUrl,
      "POST",
      "/api/auth/register/",
      { body: registration },
    );
    return this.signIn(registration.username, registration.password);
  }

  /** Forgets the tokens (in storage too), closes every socket and reports `signed_out`. */
  signOut(): void {
    this.tokens.clear();
    this.endSession("sign_out");
  }

  /** Calls `listener` on sign-in and sign-out; returns the unsubscribe function. */
  onAuth(listener: (event: AuthEvent) => void): () => void {
    return this.auth.add(listener);
  }

  /** Calls `listener` when {@link FikoClient.connection} changes; returns the unsubscribe. */
  onConnection(listener: (state: ConnectionState) => void): () => void {
    return this.connectionListeners.add(listener);
  }

  /** A live conversation list (its own socket); `close()` it when done. */
  conversations(filter: ConversationFilter = {}): ConversationList {
    const list = new ConversationList(
      { ...this.socketDeps(), onClosed: (closed) => this.forget(closed) },
      filter,
    );
    this.lists.add(list);
    this.recompute();
    return list;
  }

  /**
   * The absolute address of a path the server hands out, such as an attachment's signed `url`
   * (protocol.md section 7b), for an `<img src>` or a download.
   */
  absoluteUrl(path: string): string {
    return this.options.baseUrl + path;
  }

  /** A live chat on one conversation (its own socket); `close()` it when done. */
  chat(conversationId: string): ChatSession {
    const chat = new ChatSession(conversationId, {
      ...this.socketDeps(),
      onClosed: (closed) => this.forget(closed),
    });
    this.chats.add(chat);
    this.recompute();
    return chat;
  }

  /** Closes every socket and stops the token timer; the tokens stay in storage. */
  close(): void {
    for (const chat of [...this.chats]) chat.close();
    for (const list of [...this.lists]) list.close();
    this.tokens.stop();
  }

  private socketDeps() {
    const WebSocket = this.WebSocketImpl;
    if (!WebSocket) {
      throw new Error("No WebSocket implementation: pass one as the WebSocket option");
    }
    return {
      wsUrl: this.wsUrl,
      WebSocket,
      tokens: this.tokens,
      policy: new ReconnectPolicy(this.options.reconnect),
      api: this.api,
      onStatus: () => this.recompute(),
    };
  }

  private signedIn(user: UserView): void {
    this.currentUser = user;
    this.auth.emit({ type: "signed_in", user });
  }

  private endSession(reason: SignOutReason): void {
    for (const chat of [...this.chats]) chat.signedOut();
    for (const list of [...this.lists]) list.signedOut();
    this.chats.clear();
    this.lists.clear();
    this.recompute();
    const wasSignedIn = this.currentUser !== null || reason === "refresh_failed";
    this.currentUser = null;
    if (wasSignedIn) this.auth.emit({ type: "signed_out", reason });
  }

  private forget(socketOwner: ChatSession | ConversationList): void {
    if (socketOwner instanceof ChatSession) this.chats.delete(socketOwner);
    else this.lists.delete(socketOwner);
    this.recompute();
  }

  private recompute(): void {
    const statuses: SocketStatus[] = [];
    for (const chat of this.chats) statuses.push(chat.getSnapshot().status);
    for (const list of this.lists) statuses.push(list.status);
    const next: ConnectionState = statuses.includes("reconnecting")
      ? "reconnecting"
      : statuses.includes("connecting")
        ? "connecting"
        : statuses.includes("open")
          ? "open"
          : "idle";
    if (next === this.currentConnection) return;
    this.currentConnection = next;
    this.connectionListeners.emit(next);
  }
}

/** `http(s)://host` → `ws(s)://host`; `""` → this page's origin. */
function webSocketBase(baseUrl: string): string {
  if (baseUrl) return baseUrl.replace(/^http/, "ws").replace(/\/$/, "");
  const location = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!location) throw new Error('baseUrl "" needs a browser page: pass the server URL');
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}`;
}

function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}
