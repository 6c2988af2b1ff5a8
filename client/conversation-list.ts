import {
  type ConversationFilter,
  matchesFilter,
  mergeConversations,
  upsertConversation,
} from "./conversation-order.js";
import { ApiError } from "./errors.js";
import { Listeners } from "./listeners.js";
import { LiveSocket, type SocketStatus } from "./live-socket.js";
import type { ReconnectPolicy } from "./reconnect-policy.js";
import type { RestApi } from "./rest-api.js";
import type { TokenManager } from "./token-manager.js";
import type { WebSocketConstructor } from "./websocket.js";
import type {
  ConversationPage,
  ConversationView,
  GetConversationsClientFrame,
  ListClientFrame,
  ListServerFrame,
  MessageView,
} from "./wire.js";

/** What a {@link ConversationList} holds; a new object after every change. */
export interface ConversationListState {
  /** Newest `updated_at` first, then `id` descending; only conversations matching `filter`. */
  items: ConversationView[];
  /** More pages exist: {@link ConversationList.loadMore}. */
  hasMore: boolean;
  /** A first page for the current filter is on its way. */
  loading: boolean;
  filter: ConversationFilter;
  /** Sum of `unread_count` over `items`. */
  unreadTotal: number;
  /** The list socket's state. */
  status: SocketStatus;
}

/** A `new_customer_message` push. */
export interface NewCustomerMessage {
  conversation_id: string;
  message: MessageView;
}

const PAGE = 50;
const MAX_PAGE = 100;

// One expected `conversations_list` answer; the server answers a socket's requests in order.
type Pending =
  | { kind: "auto" }
  | { kind: "replace"; generation: number }
  | { kind: "append"; generation: number; done: (err?: Error) => void }
  | { kind: "refresh"; generation: number; acc: ConversationView[]; target: number };

/**
 * A live, sorted list of conversations: fed by the list socket's `conversations_list`,
 * `conversation_updated` and `new_customer_message`, paged by cursor, filtered. After a
 * reconnect it asks again for as many conversations as it held and swaps them in at once, so
 * the app never sees it empty.
 */
export class ConversationList {
  private readonly socket: LiveSocket<ListServerFrame, ListClientFrame>;
  private readonly changes = new Listeners();
  private readonly newMessages = new Listeners<[NewCustomerMessage]>();
  private state: ConversationListState;
  private cursor: string | null = null;
  private generation = 0;
  // The generation whose first page is in `items`; -1 before any.
  private loadedGeneration = -1;
  private queue: Pending[] = [];
  private loadingMore: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      wsUrl: string;
      WebSocket: WebSocketConstructor;
      tokens: TokenManager;
      policy: ReconnectPolicy;
      api: RestApi;
      onStatus: () => void;
      onClosed: (list: ConversationList) => void;
    },
    filter: ConversationFilter = {},
  ) {
    this.state = {
      items: [],
      hasMore: false,
      loading: true,
      filter: cleanFilter(filter),
      unreadTotal: 0,
      status: "connecting",
    };
    this.socket = new LiveSocket<ListServerFrame, ListClientFrame>(deps, {
      url: (token) => `${deps.wsUrl}/ws/conversations/?token=${encodeURIComponent(token)}`,
      onConnected: () => this.connected(),
      onFrame: (frame) => this.onFrame(frame),
      onDisconnected: () => this.disconnected(),
      onStatus: (status) => {
        this.update({ status });
        deps.onStatus();
      },
      onFinal: () => deps.onClosed(this),
    });
    this.socket.start();
  }

  /** The current state; the same object until something changes. */
  getSnapshot = (): ConversationListState => this.state;

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => this.changes.add(listener);

  /** The list socket's state. */
  get status(): SocketStatus {
    return this.socket.status;
  }

  /** Shows the conversations matching `filter` instead (a new first page replaces the items). */
  setFilter(filter: ConversationFilter): void {
    this.generation++;
    this.update({ filter: cleanFilter(filter), loading: true });
    this.requestFirstPage();
  }

  /** Appends the next page; resolves once it is in (at once when there is none). */
  loadMore(): Promise<void> {
    if (!this.state.hasMore || this.cursor === null || this.state.loading) {
      return Promise.resolve();
    }
    this.loadingMore ??= this.fetchMore().finally(() => {
      this.loadingMore = null;
    });
    return this.loadingMore;
  }

  /** Calls `listener` for every new customer message of the user; returns the unsubscribe. */
  onNewCustomerMessage(listener: (event: NewCustomerMessage) => void): () => void {
    return this.newMessages.add(listener);
  }

  /** Closes the socket for good. */
  close(): void {
    this.socket.close();
    this.deps.onClosed(this);
  }

  /** @internal The user signed out. */
  signedOut(): void {
    this.socket.signedOut();
  }

  private async fetchMore(): Promise<void> {
    const generation = this.generation;
    const cursor = this.cursor;
    const frame: GetConversationsClientFrame = { ...this.query(PAGE), cursor };
    if (this.socket.send(frame)) {
      await new Promise<void>((resolve, reject) => {
        this.queue.push({
          kind: "append",
          generation,
          done: (err) => (err ? reject(err) : resolve()),
        });
      });
      return;
    }
    // Not connected: the same page over REST.
    const page = await this.deps.api.listConversations({
      ...this.state.filter,
      limit: PAGE,
      cursor,
    });
    if (generation === this.generation && cursor === this.cursor) this.applyAppend(page);
  }

  private connected(): void {
    // The server sends a first page with no filter by itself; our own request follows it.
    this.queue = [{ kind: "auto" }];
    if (this.loadedGeneration === this.generation) {
      const target = Math.max(this.state.items.length, PAGE);
      this.queue.push({ kind: "refresh", generation: this.generation, acc: [], target });
      this.socket.send(this.query(Math.min(MAX_PAGE, target)));
    } else {
      this.requestFirstPage();
    }
  }

  private disconnected(): void {
    const failed = this.queue;
    this.queue = [];
    for (const pending of failed) {
      if (pending.kind === "append") pending.done(new ApiError(0, "network_error", "Disconnected"));
    }
  }

  private requestFirstPage(): void {
    if (this.socket.send(this.query(PAGE))) {
      this.queue.push({ kind: "replace", generation: this.generation });
    }
    // Otherwise `connected` asks for it.
  }

  private query(limit: number): GetConversationsClientFrame {
    return { type: "get_conversations", ...this.state.filter, limit };
  }

  private onFrame(frame: ListServerFrame) {
    switch (frame.type) {
      case "connection_established":
        return;
      case "conversations_list":
        return this.onPage(frame);
      case "conversation_updated":
        return this.onUpdated(frame.conversation);
      case "new_customer_message":
        return this.newMessages.emit({
          conversation_id: frame.conversation_id,
          message: frame.message,
        });
      case "error": {
        // Only our own requests draw errors on this socket: the oldest one failed.
        const pending = this.queue.shift();
        if (pending?.kind === "append") {
          pending.done(new ApiError(400, frame.code, frame.error));
        } else if (pending?.kind === "replace" && pending.generation === this.generation) {
          this.update({ loading: false });
        }
        return;
      }
      default:
        return assertNever(frame);
    }
  }

  private onPage(page: ConversationPage): void {
    // A page nobody asked for (the server resyncing after a bus outage) refreshes the top.
    const pending: Pending = this.queue.shift() ?? {
      kind: "refresh",
      generation: this.generation,
      acc: [],
      target: Math.min(MAX_PAGE, Math.max(PAGE, this.state.items.length)),
    };
    if (pending.kind === "auto") return;
    if (pending.generation !== this.generation) {
      if (pending.kind === "append") pending.done();
      return;
    }
    switch (pending.kind) {
      case "replace":
        this.cursor = page.next_cursor;
        this.loadedGeneration = this.generation;
        this.update({ items: page.conversations, hasMore: page.has_more, loading: false });
        this.socket.ready();
        return;
      case "append":
        this.applyAppend(page);
        pending.done();
        return;
      case "refresh": {
        const acc = mergeConversations(pending.acc, page.conversations);
        if (page.has_more && page.next_cursor !== null && acc.length < pending.target) {
          const next = { ...pending, acc };
          this.queue.unshift(next);
          this.socket.send({
            ...this.query(Math.min(MAX_PAGE, pending.target - acc.length)),
            cursor: page.next_cursor,
          });
          return;
        }
        this.cursor = page.next_cursor;
        this.update({ items: acc, hasMore: page.has_more, loading: false });
        this.socket.ready();
        return;
      }
    }
  }

  private applyAppend(page: ConversationPage): void {
    this.cursor = page.next_cursor;
    this.update({
      items: mergeConversations(this.state.items, page.conversations),
      hasMore: page.has_more,
    });
  }

  private onUpdated(conversation: ConversationView): void {
    const { filter, hasMore } = this.state;
    for (const pending of this.queue) {
      if (pending.kind === "refresh") {
        pending.acc = upsertConversation(pending.acc, conversation, filter, false);
      }
    }
    const items = upsertConversation(this.state.items, conversation, filter, hasMore);
    this.update({ items });
  }

  private update(changes: Partial<ConversationListState>): void {
    const next = { ...this.state, ...changes };
    if (changes.items) {
      next.unreadTotal = changes.items.reduce((sum, c) => sum + c.unread_count, 0);
    }
    this.state = next;
    this.changes.emit();
  }
}

function cleanFilter(filter: ConversationFilter): ConversationFilter {
  const clean: ConversationFilter = {};
  if (filter.status) clean.status = filter.status;
  if (filter.source) clean.source = filter.source;
  if (filter.search?.trim()) clean.search = filter.search.trim();
  return clean;
}

function assertNever(frame: never): void {
  // A frame type added to the wire union without a case above fails to compile here; at run
  // time a newer server's unknown frame is ignored.
  void frame;
}

export { matchesFilter };
