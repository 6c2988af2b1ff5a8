import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { ChatSession, ChatState } from "../sdk.js";
import { MessageItem, PendingItem } from "./message-item.js";

interface ScrollMemory {
  firstSeq: number | null;
  count: number;
  height: number;
  top: number;
  atBottom: boolean;
}

/**
 * The history, oldest first. Scrolling near the top loads older messages and keeps what the
 * user was reading in place; new messages scroll into view only when the user was at the end.
 */
export function MessageLog({
  chat,
  state,
  ownUserId,
}: {
  chat: ChatSession;
  state: ChatState;
  ownUserId: number;
}) {
  const log = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const memory = useRef<ScrollMemory>({
    firstSeq: null,
    count: 0,
    height: 0,
    top: 0,
    atBottom: true,
  });

  const remember = () => {
    const el = log.current;
    if (!el) return;
    memory.current.height = el.scrollHeight;
    memory.current.top = el.scrollTop;
    memory.current.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  };

  const firstSeq = state.messages[0]?.seq ?? null;
  const count = state.messages.length + state.pending.length;
  useLayoutEffect(() => {
    const el = log.current;
    if (!el) return;
    const before = memory.current;
    const olderArrived =
      before.firstSeq !== null && firstSeq !== null && firstSeq < before.firstSeq;
    if (olderArrived) {
      el.scrollTop = el.scrollHeight - before.height + before.top;
    } else if (
      before.atBottom ||
      before.count === 0 ||
      (count > before.count && state.pending.length > 0)
    ) {
      el.scrollTop = el.scrollHeight;
    }
    memory.current.firstSeq = firstSeq;
    memory.current.count = count;
    remember();
    // Any change (a delivery state, a message grown by its media) keeps a reader at the end.
  }, [state.messages, state.pending, state.typing.length]);

  // A picture without a known size grows the log when it loads, and a file waiting in the
  // composer shrinks it: a reader at the end stays there.
  const keepAtEnd = () => {
    const el = log.current;
    if (el && memory.current.atBottom) el.scrollTop = el.scrollHeight;
    remember();
  };
  useEffect(() => {
    const el = log.current;
    if (!el) return undefined;
    const observer = new ResizeObserver(keepAtEnd);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const el = top.current;
    if (!el || !state.hasMoreBefore || state.loadingOlder) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void chat.loadOlder();
      },
      { root: log.current, rootMargin: "120px" },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [chat, state.hasMoreBefore, state.loadingOlder, firstSeq]);

  return (
    <div
      class="log"
      role="log"
      aria-label="Messages"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls, so keyboard users need to reach it
      tabIndex={0}
      ref={log}
      onScroll={remember}
      onLoadCapture={keepAtEnd}
    >
      {state.hasMoreBefore && (
        <div ref={top} class="log-more">
          <button type="button" class="link-button" onClick={() => void chat.loadOlder()}>
            {state.loadingOlder ? "Loading…" : "Load earlier messages"}
          </button>
        </div>
      )}
      {!state.hasMoreBefore && state.messages.length > 0 && (
        <p class="log-start">Beginning of the conversation</p>
      )}
      <ol class="messages">
        {state.messages.map((message) => (
          <MessageItem key={message.id} message={message} ownUserId={ownUserId} />
        ))}
        {state.pending.map((pending) => (
          <PendingItem
            key={pending.client_id}
            pending={pending}
            onRetry={(id) => void chat.retry(id).catch(() => undefined)}
          />
        ))}
      </ol>
    </div>
  );
}
