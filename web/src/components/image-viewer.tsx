import { useRef } from "preact/hooks";
import type { AttachmentView } from "../sdk.js";

// The tallest a picture shows in the log: 18rem at the default font size.
const MAX_HEIGHT_PX = 288;

/**
 * A picture in the log: shown inline at a reserved size (so the log does not jump when it
 * loads), opened full size in a modal viewer on click.
 */
export function ImageAttachment({
  attachment,
  url,
  label,
}: {
  attachment: AttachmentView;
  url: string;
  label: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const alt = attachment.file_name ?? label;
  const { width, height } = attachment;
  // The box is sized before the bytes arrive (at most 18rem tall, never wider than the
  // bubble), so a loading picture does not push the log and lose the reading position.
  const reserved =
    width && height
      ? {
          width: `min(100%, ${Math.round(Math.min(width, (MAX_HEIGHT_PX * width) / height))}px)`,
          aspectRatio: `${width} / ${height}`,
        }
      : undefined;
  return (
    <>
      <button
        type="button"
        class="attachment-image"
        aria-label={`Open ${label.toLowerCase()}`}
        onClick={() => dialog.current?.showModal()}
      >
        <img
          src={url}
          alt={alt}
          loading="lazy"
          width={width ?? undefined}
          height={height ?? undefined}
          style={reserved}
        />
      </button>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: the backdrop click is a mouse shortcut; Escape closes a modal dialog natively */}
      <dialog
        ref={dialog}
        class="viewer"
        aria-label={label}
        onClick={(event) => {
          // A click on the backdrop (the dialog itself, not its content) closes it.
          if (event.target === dialog.current) dialog.current?.close();
        }}
      >
        <img src={url} alt={alt} loading="lazy" />
        <div class="viewer-actions">
          <a class="button" href={url} target="_blank" rel="noreferrer">
            Open original
          </a>
          <button type="button" class="button primary" onClick={() => dialog.current?.close()}>
            Close
          </button>
        </div>
      </dialog>
    </>
  );
}
