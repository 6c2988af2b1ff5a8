import { useRef } from "preact/hooks";
import type { AttachmentView } from "../sdk.js";

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
          width={attachment.width ?? undefined}
          height={attachment.height ?? undefined}
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
