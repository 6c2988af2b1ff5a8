import { customerName, preview, SOURCE_LABELS, shortTime } from "../lib/format.js";
import { conversationPath, followLink } from "../lib/router.js";
import type { ConversationView } from "../sdk.js";
import { Avatar } from "./avatar.js";

/** One row of the list: a link whose accessible name starts with the conversation's title. */
export function ConversationItem({
  conversation,
  selected,
}: {
  conversation: ConversationView;
  selected: boolean;
}) {
  const href = conversationPath(conversation.id);
  const unread = conversation.unread_count;
  const closed = conversation.status === "closed";
  return (
    <li>
      <a
        href={href}
        class={`conv${selected ? " selected" : ""}${unread > 0 ? " unread" : ""}`}
        aria-current={selected ? "true" : undefined}
        aria-label={`${conversation.title}${unread > 0 ? `, ${unread} unread` : ""}`}
        onClick={(event) => followLink(event, href)}
      >
        <Avatar customer={conversation.customer} />
        <span class="conv-main">
          <span class="conv-top">
            <span class="conv-name">{customerName(conversation.customer)}</span>
            <time class="conv-time" dateTime={conversation.updated_at}>
              {shortTime(conversation.updated_at)}
            </time>
          </span>
          <span class="conv-bottom">
            <span class="conv-preview">{preview(conversation)}</span>
            {unread > 0 && <span class="badge">{unread}</span>}
          </span>
          <span class="conv-tags">
            <span class={`chip chip-${conversation.source}`}>
              {SOURCE_LABELS[conversation.source]}
            </span>
            {closed && <span class="chip">Closed</span>}
            {conversation.status === "active" && <span class="chip">Automatic</span>}
            {conversation.priority > 1 && (
              <span class="chip chip-priority">P{conversation.priority}</span>
            )}
          </span>
        </span>
      </a>
    </li>
  );
}
