import { useEffect, useRef, useState } from "preact/hooks";
import { type ChatSession, MAX_CAPTION_LENGTH, MAX_CONTENT_LENGTH } from "../sdk.js";
import { LocalFile } from "./local-file.js";

const TYPING_REFRESH_MS = 3000;
const TYPING_IDLE_MS = 4000;

/**
 * The reply box: Enter sends, Shift+Enter starts a new line; typing is announced to others.
 * A file (picked with "Attach file", pasted, or dropped on the chat) waits above the box with
 * a preview until it is sent, the text becoming its caption.
 */
export function Composer({
  chat,
  disabled,
  staged,
  onStage,
}: {
  chat: ChatSession;
  disabled: boolean;
  staged: File | null;
  onStage: (file: File | null) => void;
}) {
  const [text, setText] = useState("");
  const picker = useRef<HTMLInputElement>(null);
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
    if ((!content && !staged) || disabled) return;
    setText("");
    stopTyping();
    // A failure stays visible in the log as "Failed", with a way to retry.
    if (staged) {
      onStage(null);
      chat.sendFile(staged, { name: staged.name, caption: content }).catch(() => undefined);
    } else {
      chat.send(content).catch(() => undefined);
    }
  };

  const pasted = (event: ClipboardEvent) => {
    const file = [...(event.clipboardData?.files ?? [])][0];
    if (!file) return;
    // A pasted screenshot has no name of its own.
    event.preventDefault();
    onStage(file.name ? file : new File([file], "pasted-image.png", { type: file.type }));
  };

  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      {staged && (
        <fieldset class="staged" aria-label="File to send">
          <LocalFile blob={staged} name={staged.name} />
          <button
            type="button"
            class="icon-button"
            aria-label="Remove file"
            title="Remove file"
            onClick={() => onStage(null)}
          >
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
              <path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2" />
            </svg>
          </button>
        </fieldset>
      )}
      <input
        ref={picker}
        type="file"
        class="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          if (file) onStage(file);
          // The same file picked again must fire a change.
          event.currentTarget.value = "";
        }}
      />
      <button
        type="button"
        class="icon-button"
        aria-label="Attach file"
        title="Attach a photo, video or file (or paste or drop one)"
        disabled={disabled}
        onClick={() => picker.current?.click()}
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
        placeholder={staged ? "Add a caption…" : "Write a reply…"}
        title="Enter sends, Shift+Enter starts a new line"
        rows={1}
        maxLength={staged ? MAX_CAPTION_LENGTH : MAX_CONTENT_LENGTH}
        value={text}
        onInput={(event) => typed(event.currentTarget.value)}
        onPaste={pasted}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="button primary" disabled={disabled || (!text.trim() && !staged)}>
        Send
      </button>
    </form>
  );
}
