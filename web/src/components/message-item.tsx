import { fullTime, shortTime } from "../lib/format.js";
import type { MessageView, PendingMessage } from "../sdk.js";
import { AttachmentItem } from "./attachment-view.js";
import { LocalFile } from "./local-file.js";

const AUTHOR: Record<MessageView["type"], string> = {
  customer: "",
  support: "",
  AI: "AI",
  marketing: "Marketing",
};

function DeliveryState({
  label,
  error,
}: {
  label: "Sending" | "Sent" | "Failed";
  error?: string | null;
}) {
  return (
    <span class={`delivery delivery-${label.toLowerCase()}`}>
      {label}
      {label === "Failed" && error ? `: ${error}` : ""}
    </span>
  );
}

/** A stored message. Outgoing ones show how far delivery to the customer got. */
export function MessageItem({ message, ownUserId }: { message: MessageView; ownUserId: number }) {
  const incoming = message.type === "customer";
  const attachments = message.attachments ?? [];
  // A caption-less media message carries a bracketed label such as "[photo]" for clients
  // that ignore attachments; here the media itself stands in for it.
  const showText = attachments.length === 0 || !/^\[[a-z ]+\]$/.test(message.content);
  const byOther = message.type === "support" && message.sender && message.sender.id !== ownUserId;
  const author = byOther ? (message.sender?.username ?? "") : AUTHOR[message.type];
  const state =
    message.delivery_status === "sent"
      ? "Sent"
      : message.delivery_status === "failed"
        ? "Failed"
        : "Sending";
  return (
    <li class={`msg ${incoming ? "msg-in" : "msg-out"}${message.type === "AI" ? " msg-auto" : ""}`}>
      {author && <span class="msg-author">{author}</span>}
      {attachments.map((attachment) => (
        <AttachmentItem key={attachment.id} attachment={attachment} />
      ))}
      {showText && <p class="msg-text">{message.content}</p>}
      <span class="msg-meta">
        <time dateTime={message.created_at} title={fullTime(message.created_at)}>
          {shortTime(message.created_at)}
        </time>
        {!incoming && <DeliveryState label={state} error={message.delivery_error} />}
      </span>
    </li>
  );
}

/** A reply not stored yet: shown at once, then replaced by the stored message. */
export function PendingItem({
  pending,
  onRetry,
}: {
  pending: PendingMessage;
  onRetry: (clientId: string) => void;
}) {
  const failed = pending.state === "failed";
  const file = pending.file;
  return (
    <li class={`msg msg-out msg-pending${failed ? " msg-failed" : ""}`}>
      {file && <LocalFile blob={file.blob} name={file.name} />}
      {file && !failed && (
        <progress
          class="upload-progress"
          aria-label={`Uploading ${file.name}`}
          max={100}
          value={Math.round(file.progress * 100)}
        />
      )}
      {pending.content && <p class="msg-text">{pending.content}</p>}
      <span class="msg-meta">
        <DeliveryState label={failed ? "Failed" : "Sending"} error={pending.error} />
        {failed && (
          <button type="button" class="link-button" onClick={() => onRetry(pending.client_id)}>
            Retry
          </button>
        )}
      </span>
    </li>
  );
}
