import { fileSize } from "../lib/file-size.js";
import { useObjectUrl } from "../lib/object-url.js";

/**
 * A file on this device, before or while it uploads: an image shows itself, anything else its
 * name and size.
 */
export function LocalFile({ blob, name }: { blob: Blob; name: string }) {
  const isImage = blob.type.startsWith("image/");
  const url = useObjectUrl(isImage ? blob : null);
  return (
    <span class="local-file">
      {isImage && url ? (
        <img class="local-file-image" src={url} alt={name} />
      ) : (
        <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" class="local-file-icon">
          <path
            d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5"
            fill="none"
            stroke="currentColor"
            stroke-width="1.6"
            stroke-linejoin="round"
          />
        </svg>
      )}
      <span class="local-file-name">
        {name}
        <span class="local-file-size"> {fileSize(blob.size)}</span>
      </span>
    </span>
  );
}
