import { useEffect, useRef, useState } from "preact/hooks";
import type { ChatSession } from "../sdk.js";

const TYPING_REFRESH_MS = 3000;
const TYPING_IDLE_MS = 4000;

/** The reply box: Enter sends, Shift+Enter starts a new line; typing is announced to others. */
export function Composer({ chat, disabled }: { chat: ChatSession; disabled: boolean }) {
  const [text, setText] = useState("");
  const lastTypingSent = useRef(0);
  const idleTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const stopTyping = () => {
    clearTimeout(idleTimer.current);
    if (lastTypingSent.current > 0) chat.setTyping(false);
    lastTypingSent.current = 0;
  };
  useEffect(() => stopTyping, [chat]);

  const typed = (value: string) => {
    setText(value);
    if (!value.trim()) return stopTyping();
    const now = Date.now();
    if (now - lastTypingSent.current > TYPING_REFRESH_MS) {
      chat.setTyping(true);
      lastTypingSent.current = now;
    }
    clearTimeout(idleTimer.current);
    idleTimer.current = setTimeout(stopTyping, TYPING_IDLE_MS);
  };

  const send = () => {
    const content = text.trim();
    if (!content || disabled) return;
    setText("");
    stopTyping();
    // A failure stays visible in the log as "Failed", with a way to retry.
    chat.send(content).catch(() => undefined);
  };

  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      <button
        type="button"
        class="icon-button"
        aria-label="Attach file"
        title="Attaching files is coming soon: media upload is not available yet"
        disabled
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path
            d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.5 3.5 0 0 1 5 5l-8.6 8.6a2 2 0 0 1-2.8-2.8l7.9-7.9"
            fill="none"
            stroke="currentColor"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
          />
        </svg>
      </button>
      <textarea
        class="composer-input"
        aria-label="Message"
        placeholder="Write a reply…"
        title="Enter sends, Shift+Enter starts a new line"
        rows={1}
        maxLength={4096}
        value={text}
        onInput={(event) => typed(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="button primary" disabled={disabled || !text.trim()}>
        Send
      </button>
    </form>
  );
}
