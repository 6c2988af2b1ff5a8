import { useEffect, useState } from "preact/hooks";

/**
 * A `blob:` URL for a local file while the component shows it, revoked afterwards so a
 * previewed upload does not hold its bytes in memory for the life of the page.
 */
export function useObjectUrl(blob: Blob | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) {
      setUrl(null);
      return undefined;
    }
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [blob]);
  return url;
}
