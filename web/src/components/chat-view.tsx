import { useEffect, useRef, useState } from "preact/hooks";
import { useStore } from "../lib/use-store.js";
import type { ChatSession, ConversationList, ConversationView, FikoClient } from "../sdk.js";
import { ApiError } from "../sdk.js";
import { ChatHeader } from "./chat-header.js";
import { Composer } from "./composer.js";
import { MessageLog } from "./message-log.js";

function useChat(client: FikoClient, conversationId: string): ChatSession {
  const [chat] = useState(() => client.chat(conversationId));
  useEffect(() => () => chat.close(), [chat]);
  return chat;
}

/**
 * The conversation's details: from the live list while it holds it (kept current by the list
 * socket), else the last copy seen or fetched (a filter may hide it from the list).
 */
function useConversation(client: FikoClient, list: ConversationList, id: string) {
  const fromList = useStore(list).items.find((c) => c.id === id);
  const [known, setKnown] = useState<ConversationView | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    if (fromList) setKnown(fromList);
  }, [fromList]);
  useEffect(() => {
    if (fromList || known) return;
    client.api.getConversation(id).then(setKnown, (err: unknown) => {
      if (err instanceof ApiError && err.status === 404) setMissing(true);
    });
  }, [id]);
  return { conversation: fromList ?? known, missing, setKnown };
}

function useMarkRead(
  chat: ChatSession,
  state: ReturnType<ChatSession["getSnapshot"]>,
  unread: number,
) {
  const markedUpTo = useRef(0);
  let lastCustomerSeq = 0;
  for (let i = state.messages.length - 1; i >= 0; i--) {
    const message = state.messages[i];
    if (message?.type === "customer") {
      lastCustomerSeq = message.seq;
      break;
    }
  }
  const open = state.status === "open";
  useEffect(() => {
    const mark = () => {
      if (!open || document.visibilityState !== "visible") return;
      if (unread === 0 && lastCustomerSeq <= markedUpTo.current) return;
      markedUpTo.current = lastCustomerSeq;
      chat.markRead();
    };
    mark();
    document.addEventListener("visibilitychange", mark);
    return () => document.removeEventListener("visibilitychange", mark);
  }, [chat, open, unread, lastCustomerSeq]);
}

export function ChatView({
  client,
  list,
  conversationId,
}: {
  client: FikoClient;
  list: ConversationList;
  conversationId: string;
}) {
  const chat = useChat(client, conversationId);
  const state = useStore(chat);
  const { conversation, missing, setKnown } = useConversation(client, list, conversationId);
  const [error, setError] = useState<string | null>(null);
  const [staged, setStaged] = useState<File | null>(null);
  const [dragging, setDragging] = useState(false);
  useMarkRead(chat, state, conversation?.unread_count ?? 0);

  if (missing || state.error) {
    return (
      <div class="chat-empty">
        <p role="alert">This conversation does not exist or belongs to another account.</p>
      </div>
    );
  }

  const update = (change: { status?: ConversationView["status"]; priority?: number }) => {
    setError(null);
    client.api.updateConversation(conversationId, change).then(setKnown, (err: unknown) => {
      setError(err instanceof ApiError ? err.message : "The change could not be saved.");
    });
  };
  const typing = state.typing.map((t) => t.username);

  const closed = state.status === "closed";
  // Dropping a file anywhere on the conversation stages it in the composer.
  const dropHandlers = {
    onDragOver: (event: DragEvent) => {
      if (closed || !event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      setDragging(true);
    },
    onDragLeave: (event: DragEvent) => {
      if (event.currentTarget === event.target) setDragging(false);
    },
    onDrop: (event: DragEvent) => {
      setDragging(false);
      const file = event.dataTransfer?.files[0];
      if (closed || !file) return;
      event.preventDefault();
      setStaged(file);
    },
  };

  return (
    <div class={`chat${dragging ? " chat-drop" : ""}`} {...dropHandlers}>
      {conversation ? (
        <ChatHeader conversation={conversation} onChange={update} />
      ) : (
        <header class="chat-header chat-header-loading" aria-busy="true" />
      )}
      {error && (
        <p role="alert" class="error inline">
          {error}
        </p>
      )}
      <MessageLog chat={chat} state={state} ownUserId={client.user?.id ?? 0} />
      <p class="typing" aria-live="polite">
        {typing.length > 0 && `${typing.join(", ")} ${typing.length === 1 ? "is" : "are"} typing…`}
      </p>
      <Composer chat={chat} disabled={closed} staged={staged} onStage={setStaged} />
    </div>
  );
}
