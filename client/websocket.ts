// The few members of a WebSocket the SDK uses. The browser's `WebSocket` and the `ws` package's
// class both fit this shape as they are, so Node passes `ws` and the browser passes nothing.

// Handlers are compared bivariantly (as methods are), so a socket whose handlers take a richer
// event type (the DOM's MessageEvent, `ws`'s MessageEvent) still fits.
type Handler<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

/** What the SDK reads from a message event: `data` is a string for text frames. */
export interface MessageEventLike {
  data: unknown;
}

/** What the SDK reads from a close event. */
export interface CloseEventLike {
  code: number;
  reason: string;
}

/** A connected or connecting WebSocket, as the SDK sees it. */
export interface WebSocketLike {
  onopen: Handler<unknown> | null;
  onmessage: Handler<MessageEventLike> | null;
  onclose: Handler<CloseEventLike> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: `globalThis.WebSocket` in browsers, `ws`'s default export in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;
