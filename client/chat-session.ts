import { ApiError, SignedOutError } from "./errors.js";
import { randomId } from "./ids.js";
import { Listeners } from "./listeners.js";
import { LiveSocket, type SocketStatus } from "./live-socket.js";
import type { ReconnectPolicy } from "./reconnect-policy.js";
import type { RestApi } from "./rest-api.js";
import type { TokenManager } from "./token-manager.js";
import { TypingTracker, type TypingUser } from "./typing-tracker.js";
import type { WebSocketConstructor } from "./websocket.js";
import type { ChatClientFrame, ChatServerFrame, MessagePage, MessageView } from "./wire.js";

/** The file of a pending message, while it uploads. */
export interface PendingFile {
  /** The bytes being sent; an app can show a preview of it (`URL.createObjectURL`). */
  blob: Blob;
  name: string;
  size: number;
  /** The type the browser gave the file (the server decides by the bytes). */
  mime_type: string;
  /** 0 to 1: the share of the upload sent so far. */
  progress: number;
}

/** A message the user sent that the server has not confirmed as stored yet. */
export interface PendingMessage {
  /** Made once by `send`, reused on every retry: the server stores the message once. */
  client_id: string;
  /** The text; for a file, its caption (may be empty). */
  content: string;
  /** Set for a message sent with {@link ChatSession.sendFile}. */
  file?: PendingFile;
  /** `failed`: the server refused it (see `error`) or the chat closed; `retry` sends it again. */
  state: "sending" | "failed";
  error: string | null;
  created_at: string;
}

/** What a {@link ChatSession} holds; a new object after every change. */
export interface ChatState {
  status: SocketStatus;
  /** `forbidden` (close 4003): no such conversation for this user; the chat is closed for good. */
  error: { code: "forbidden" } | null;
  /** Stored messages, `seq` ascending, contiguous, each once. */
  messages: MessageView[];
  /** Optimistic messages, oldest first; each leaves this list when its stored copy arrives. */
  pending: PendingMessage[];
  hasMoreBefore: boolean;
  loadingOlder: boolean;
  /** Others typing now. */
  typing: TypingUser[];
  /** The last `messages_read` time seen on this socket. */
  readAt: string | null;
}

/** The content limit of protocol.md section 4, after trimming. */
export const MAX_CONTENT_LENGTH = 4096;
/** The server's limit on a file's caption: Telegram takes at most 1024 characters. */
export const MAX_CAPTION_LENGTH = 1024;
const OLDER_PAGE = 50;
const MAX_PAGE = 100;
const REST_PAGE = 100;
// Resend `typing: true` this often while the user keeps typing, so others' indicators live on.
const TYPING_RESEND_MS = 3_000;

interface Outgoing {
  entry: PendingMessage;
  waiters: { resolve: (m: MessageView) => void; reject: (err: Error) => void }[];
}

// One expected `messages` answer; the server answers a socket's requests in order.
type Request = { kind: "older" | "gap"; done: (page: MessagePage | null) => void };

/**
 * One conversation, live: the messages in `seq` order with nothing missing or doubled across
 * reconnects (resume with `after_seq`, gaps filled with `get_messages`, a long outage caught up
 * over REST), optimistic sends that survive drops, typing and read state.
 */
export class ChatSession {
  private readonly socket: LiveSocket<ChatServerFrame, ChatClientFrame>;
  private readonly changes = new Listeners();
  private readonly typingTracker: TypingTracker;
  private state: ChatState = {
    status: "connecting",
    error: null,
    messages: [],
    pending: [],
    hasMoreBefore: false,
    loadingOlder: false,
    typing: [],
    readAt: null,
  };
  // Highest seq in `messages`; meaningful once `synced`.
  private last = 0;
  private synced = false;
  // Messages above `last + 1` that arrived early, waiting for the ones before them.
  private readonly held = new Map<number, MessageView>();
  private filling = false;
  private requests: Request[] = [];
  private readonly outgoing = new Map<string, Outgoing>();
  private typingSentAt = 0;
  private typingSent = false;

  constructor(
    /** The conversation's id. */
    readonly conversationId: string,
    private readonly deps: {
      wsUrl: string;
      WebSocket: WebSocketConstructor;
      tokens: TokenManager;
      policy: ReconnectPolicy;
      api: RestApi;
      onStatus: () => void;
      onClosed: (chat: ChatSession) => void;
    },
  ) {
    this.typingTracker = new TypingTracker((typing) => this.update({ typing }));
    this.socket = new LiveSocket<ChatServerFrame, ChatClientFrame>(deps, {
      url: (token) => {
        const base = `${deps.wsUrl}/ws/chat/${encodeURIComponent(conversationId)}/`;
        const resume = this.synced ? `&after_seq=${this.last}` : "";
        return `${base}?token=${encodeURIComponent(token)}${resume}`;
      },
      onConnected: () => undefined,
      onFrame: (frame) => this.onFrame(frame),
      onDisconnected: () => this.disconnected(),
      onStatus: (status) => {
        this.update({ status });
        deps.onStatus();
      },
      onFinal: (reason) => {
        if (reason === "forbidden") this.update({ error: { code: "forbidden" } });
        this.failAll(reason === "forbidden" ? "Conversation not available" : "Signed out");
        deps.onClosed(this);
      },
    });
    this.socket.start();
  }

  /** The current state; the same object until something changes. */
  getSnapshot = (): ChatState => this.state;

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => this.changes.add(listener);

  /**
   * Sends a reply. A pending entry appears at once; the promise resolves with the stored
   * message, which replaces the entry. Across drops the same `client_id` is sent again until
   * the stored message arrives, so the reply is stored exactly once.
   */
  send(content: string): Promise<MessageView> {
    const trimmed = content.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_CONTENT_LENGTH) {
      return Promise.reject(
        new ApiError(
          400,
          "invalid_message",
          `content must be 1 to ${MAX_CONTENT_LENGTH} characters`,
        ),
      );
    }
    if (this.state.status === "closed") return Promise.reject(this.closedError());
    const entry: PendingMessage = {
      client_id: randomId(),
      content,
      state: "sending",
      error: null,
      created_at: new Date().toISOString(),
    };
    const outgoing: Outgoing = { entry, waiters: [] };
    this.outgoing.set(entry.client_id, outgoing);
    const promise = this.wait(outgoing);
    this.update({ pending: [...this.state.pending, entry] });
    if (this.state.status === "open") this.transmit(entry);
    return promise;
  }

  /**
   * Sends a file with an optional caption (protocol.md section 7b). A pending entry with the
   * file and its upload progress appears at once; the promise resolves with the stored message.
   * Files go over REST (the socket carries text only). An interrupted upload leaves the entry
   * `failed`; `retry` uploads it again with the same `client_id`, so it is stored once.
   */
  sendFile(file: Blob, options: { name?: string; caption?: string } = {}): Promise<MessageView> {
    const caption = options.caption?.trim() ?? "";
    if (caption.length > MAX_CAPTION_LENGTH) {
      return Promise.reject(
        new ApiError(
          400,
          "invalid_message",
          `caption must be at most ${MAX_CAPTION_LENGTH} characters`,
        ),
      );
    }
    if (file.size === 0) {
      return Promise.reject(new ApiError(400, "empty_file", "The file is empty"));
    }
    if (this.state.status === "closed") return Promise.reject(this.closedError());
    const name = options.name ?? fileName(file);
    const entry: PendingMessage = {
      client_id: randomId(),
      content: caption,
      file: { blob: file, name, size: file.size, mime_type: file.type, progress: 0 },
      state: "sending",
      error: null,
      created_at: new Date().toISOString(),
    };
    const outgoing: Outgoing = { entry, waiters: [] };
    this.outgoing.set(entry.client_id, outgoing);
    const promise = this.wait(outgoing);
    this.update({ pending: [...this.state.pending, entry] });
    void this.upload(entry);
    return promise;
  }

  /** Sends a `failed` pending message again, with its `client_id`. */
  retry(clientId: string): Promise<MessageView> {
    const outgoing = this.outgoing.get(clientId);
    if (!outgoing) return Promise.reject(new ApiError(404, "not_found", "No such pending message"));
    if (this.state.status === "closed") return Promise.reject(this.closedError());
    const promise = this.wait(outgoing);
    if (outgoing.entry.state === "failed") {
      this.setEntry(clientId, { state: "sending", error: null });
      if (outgoing.entry.file) void this.upload(outgoing.entry);
      else if (this.state.status === "open") this.transmit(outgoing.entry);
    }
    return promise;
  }

  /** Loads the page before the first message held (50 messages). */
  async loadOlder(): Promise<void> {
    const first = this.state.messages[0]?.seq;
    if (first === undefined || !this.state.hasMoreBefore || this.state.loadingOlder) return;
    this.update({ loadingOlder: true });
    try {
      const page = await this.fetchBefore(first, OLDER_PAGE);
      const current = this.state.messages[0]?.seq;
      // Only a page that ends right before the first message held keeps the list contiguous.
      const older = page.messages.filter((m) => current !== undefined && m.seq < current);
      if (current !== undefined && older.at(-1)?.seq === current - 1) {
        this.update({
          messages: [...older, ...this.state.messages],
          hasMoreBefore: page.has_more,
        });
      }
    } finally {
      this.update({ loadingOlder: false });
    }
  }

  /** Tells the others whether this user is typing. */
  setTyping(isTyping: boolean): void {
    const now = Date.now();
    if (isTyping === this.typingSent && (!isTyping || now - this.typingSentAt < TYPING_RESEND_MS))
      return;
    if (this.socket.send({ type: "typing", is_typing: isTyping })) {
      this.typingSent = isTyping;
      this.typingSentAt = now;
    }
  }

  /** Marks the conversation read (over REST when the socket is down). */
  markRead(): void {
    if (this.socket.send({ type: "mark_read" })) return;
    this.deps.api.markRead(this.conversationId).then(
      (receipt) => this.update({ readAt: receipt.read_at }),
      () => undefined,
    );
  }

  /** Closes the socket for good; pending messages turn `failed`. */
  close(): void {
    this.socket.close();
    this.failAll("Closed");
    this.deps.onClosed(this);
  }

  /** @internal The user signed out. */
  signedOut(): void {
    this.socket.signedOut();
  }

  private onFrame(frame: ChatServerFrame) {
    switch (frame.type) {
      case "connection_established":
        return;
      case "recent_messages":
        void this.onSnapshot(frame.messages, frame.has_more, frame.resumed === true);
        return;
      case "chat_message":
        return this.accept([frame.message]);
      case "message_updated":
        return this.onUpdated(frame.message);
      case "messages":
        this.requests.shift()?.done({ messages: frame.messages, has_more: frame.has_more });
        return;
      case "typing_indicator":
        return this.typingTracker.observe(frame);
      case "messages_read":
        return this.update({ readAt: frame.read_at });
      case "error":
        // Errors here answer a frame we sent; a reply may be among them, so ask REST, which
        // answers each client_id definitely (stored, or why not).
        for (const { entry } of this.outgoing.values()) {
          if (entry.state === "sending" && !entry.file) void this.confirmOverRest(entry);
        }
        return;
      default:
        return assertNever(frame);
    }
  }

  private async onSnapshot(messages: MessageView[], hasMore: boolean, resumed: boolean) {
    if (!resumed || !this.synced) {
      // The first snapshot: the newest messages.
      this.synced = true;
      this.last = messages.at(-1)?.seq ?? 0;
      this.update({ messages, hasMoreBefore: hasMore });
      this.resolveOutgoing(messages);
    } else {
      this.accept(messages);
      // More than the server resumes in one frame were missed: the rest over REST.
      let more = hasMore;
      while (more) {
        let page: MessagePage;
        try {
          page = await this.deps.api.getMessages(this.conversationId, {
            after_seq: this.last,
            limit: REST_PAGE,
          });
        } catch {
          return; // The socket will drop or has dropped; the next resume starts from `last`.
        }
        if (this.state.status === "closed") return;
        this.accept(page.messages);
        more = page.has_more && page.messages.length > 0;
      }
    }
    this.socket.ready();
    for (const { entry } of this.outgoing.values()) {
      if (entry.state === "sending" && !entry.file) this.transmit(entry);
    }
  }

  /** Takes stored messages in any order: new ones join in `seq` order, each once. */
  private accept(messages: MessageView[]): void {
    for (const message of messages) {
      if (message.seq > this.last) this.held.set(message.seq, message);
    }
    const fresh: MessageView[] = [];
    let next = this.held.get(this.last + 1);
    while (next) {
      this.held.delete(next.seq);
      fresh.push(next);
      this.last = next.seq;
      next = this.held.get(this.last + 1);
    }
    if (fresh.length > 0) this.update({ messages: [...this.state.messages, ...fresh] });
    this.resolveOutgoing(messages);
    if (this.held.size > 0) void this.fillGap();
  }

  /** Fetches what lies between `last` and the earliest held message, top-down in pages. */
  private async fillGap(): Promise<void> {
    if (this.filling || this.state.status === "closed") return;
    this.filling = true;
    try {
      while (this.held.size > 0) {
        const above = Math.min(...this.held.keys());
        const missing = above - this.last - 1;
        if (missing <= 0) break;
        const page = await this.fetchBefore(above, Math.min(MAX_PAGE, missing));
        if (page.messages.length === 0) break;
        this.accept(page.messages);
      }
    } catch {
      // Disconnected: the resume after `last` brings the missing messages.
    } finally {
      this.filling = false;
    }
  }

  /** `get_messages` on the socket when it is up, else the same page over REST. */
  private fetchBefore(beforeSeq: number, limit: number): Promise<MessagePage> {
    const frame: ChatClientFrame = { type: "get_messages", before_seq: beforeSeq, limit };
    if (!this.socket.send(frame)) {
      return this.deps.api.getMessages(this.conversationId, { before_seq: beforeSeq, limit });
    }
    return new Promise((resolve, reject) => {
      this.requests.push({
        kind: "gap",
        done: (page) =>
          page ? resolve(page) : reject(new ApiError(0, "network_error", "Disconnected")),
      });
    });
  }

  private onUpdated(message: MessageView): void {
    if (this.held.has(message.seq)) {
      this.held.set(message.seq, message);
      return;
    }
    const messages = this.state.messages;
    const first = messages[0]?.seq;
    if (first === undefined || message.seq < first || message.seq > this.last) return;
    const index = message.seq - first;
    const copy = messages.slice();
    copy[index] = message;
    this.update({ messages: copy });
  }

  private disconnected(): void {
    const requests = this.requests;
    this.requests = [];
    for (const request of requests) request.done(null);
    this.typingSent = false;
    this.typingTracker.clear();
  }

  private transmit(entry: PendingMessage): void {
    this.socket.send({ type: "chat_message", content: entry.content, client_id: entry.client_id });
  }

  private async upload(entry: PendingMessage): Promise<void> {
    const file = entry.file;
    if (!file) return;
    const clientId = entry.client_id;
    try {
      const stored = await this.deps.api.sendFile(
        this.conversationId,
        { blob: file.blob, name: file.name },
        { content: entry.content || undefined, client_id: clientId },
        ({ sent, total }) => {
          const current = this.outgoing.get(clientId)?.entry.file;
          if (current && total > 0)
            this.setEntry(clientId, { file: { ...current, progress: sent / total } });
        },
      );
      if (this.state.status !== "closed") this.accept([stored]);
    } catch (err) {
      // Every failure is shown: a refusal says why; an interrupted upload can be retried.
      this.fail(clientId, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async confirmOverRest(entry: PendingMessage): Promise<void> {
    try {
      const stored = await this.deps.api.sendMessage(this.conversationId, {
        content: entry.content,
        client_id: entry.client_id,
      });
      this.accept([stored]);
    } catch (err) {
      // A refusal is final for this entry; a network error leaves it to the next reconnect.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
        this.fail(entry.client_id, err);
      }
    }
  }

  private resolveOutgoing(messages: MessageView[]): void {
    for (const message of messages) {
      if (message.client_id === null) continue;
      const outgoing = this.outgoing.get(message.client_id);
      if (!outgoing) continue;
      this.outgoing.delete(message.client_id);
      this.update({
        pending: this.state.pending.filter((p) => p.client_id !== message.client_id),
      });
      for (const waiter of outgoing.waiters) waiter.resolve(message);
    }
  }

  private fail(clientId: string, err: Error): void {
    const outgoing = this.outgoing.get(clientId);
    if (!outgoing) return;
    this.setEntry(clientId, { state: "failed", error: err.message });
    const waiters = outgoing.waiters;
    outgoing.waiters = [];
    for (const waiter of waiters) waiter.reject(err);
  }

  private failAll(reason: string): void {
    this.typingTracker.clear();
    const err = reason === "Signed out" ? new SignedOutError() : this.closedError(reason);
    for (const clientId of [...this.outgoing.keys()]) this.fail(clientId, err);
  }

  private closedError(message = "Chat closed"): ApiError {
    if (this.state.error) return new ApiError(403, "forbidden", "Conversation not available");
    return new ApiError(0, "closed", message);
  }

  private wait(outgoing: Outgoing): Promise<MessageView> {
    const promise = new Promise<MessageView>((resolve, reject) => {
      outgoing.waiters.push({ resolve, reject });
    });
    // The pending entry shows a failure too: an app that does not await `send` must not get
    // an unhandled rejection for it.
    promise.catch(() => undefined);
    return promise;
  }

  private setEntry(clientId: string, changes: Partial<PendingMessage>): void {
    const outgoing = this.outgoing.get(clientId);
    if (!outgoing) return;
    outgoing.entry = { ...outgoing.entry, ...changes };
    this.update({
      pending: this.state.pending.map((p) => (p.client_id === clientId ? outgoing.entry : p)),
    });
  }

  private update(changes: Partial<ChatState>): void {
    this.state = { ...this.state, ...changes };
    this.changes.emit();
  }
}

/** A browser `File` has a name; a plain `Blob` gets one from its type. */
function fileName(file: Blob): string {
  const named = (file as Blob & { name?: unknown }).name;
  if (typeof named === "string" && named !== "") return named;
  const subtype = file.type.split("/")[1]?.split(";")[0];
  return subtype ? `file.${subtype}` : "file";
}

function assertNever(frame: never): void {
  // A frame type added to the wire union without a case above fails to compile here; at run
  // time a newer server's unknown frame is ignored.
  void frame;
}
