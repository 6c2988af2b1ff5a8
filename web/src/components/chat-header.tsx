import { customerName, SOURCE_LABELS } from "../lib/format.js";
import { followLink } from "../lib/router.js";
import type { ConversationStatus, ConversationView } from "../sdk.js";
import { Avatar } from "./avatar.js";
import { StatusOptions } from "./status-options.js";

const PRIORITIES = [1, 2, 3, 4, 5];

/** Who the customer is, and the conversation's status and priority. */
export function ChatHeader({
  conversation,
  onChange,
}: {
  conversation: ConversationView;
  onChange: (change: { status?: ConversationStatus; priority?: number }) => void;
}) {
  const { customer } = conversation;
  const priorities = PRIORITIES.includes(conversation.priority)
    ? PRIORITIES
    : [...PRIORITIES, conversation.priority].sort((a, b) => a - b);
  return (
    <header class="chat-header">
      <a href="/" class="back-link" onClick={(event) => followLink(event, "/")}>
        <span aria-hidden="true">←</span> Back to conversations
      </a>
      <div class="profile">
        <Avatar customer={customer} size="lg" />
        <div class="profile-text">
          <h2 class="profile-name">{customerName(customer)}</h2>
          <p class="profile-sub">
            {customer.username && <span class="profile-username">@{customer.username}</span>}
            <span class={`chip chip-${customer.source}`}>{SOURCE_LABELS[customer.source]}</span>
          </p>
        </div>
      </div>
      <div class="chat-controls">
        <label class="select-field">
          <span>Status</span>
          <select
            aria-label="Conversation status"
            value={conversation.status}
            onChange={(event) =>
              onChange({ status: event.currentTarget.value as ConversationStatus })
            }
          >
            <StatusOptions />
          </select>
        </label>
        <label class="select-field">
          <span>Priority</span>
          <select
            aria-label="Priority"
            value={String(conversation.priority)}
            onChange={(event) => onChange({ priority: Number(event.currentTarget.value) })}
          >
            {priorities.map((priority) => (
              <option key={priority} value={String(priority)}>
                {priority}
              </option>
            ))}
          </select>
        </label>
      </div>
    </header>
  );
}
