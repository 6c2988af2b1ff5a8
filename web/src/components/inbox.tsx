import type { ConversationList, FikoClient } from "../sdk.js";
import { ChatView } from "./chat-view.js";
import { ConversationListPanel } from "./conversation-list.js";

/** List and chat: side by side on wide screens, one at a time (with a way back) on narrow ones. */
export function Inbox({
  client,
  list,
  selectedId,
}: {
  client: FikoClient;
  list: ConversationList;
  selectedId: string | null;
}) {
  return (
    <div class={selectedId ? "inbox has-selection" : "inbox"}>
      <ConversationListPanel list={list} selectedId={selectedId} />
      <section class="chat-pane" aria-label="Conversation">
        {selectedId ? (
          <ChatView key={selectedId} client={client} list={list} conversationId={selectedId} />
        ) : (
          <div class="chat-empty">
            <p>Select a conversation to read and reply.</p>
          </div>
        )}
      </section>
    </div>
  );
}
