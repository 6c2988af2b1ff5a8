import { useEffect, useState } from "preact/hooks";

// A few screens need no router library: the path is the state, and the server answers every
// app path with index.html, so a reload or a shared link lands on the same screen.

export type Route =
  | { page: "inbox"; conversationId: string | null }
  | { page: "channels" }
  | { page: "settings" };

export function parseRoute(path: string): Route {
  if (/^\/channels\/?$/.test(path)) return { page: "channels" };
  if (/^\/settings\/?$/.test(path)) return { page: "settings" };
  const match = path.match(/^\/c\/([A-Za-z0-9_-]{1,64})\/?$/);
  return { page: "inbox", conversationId: match?.[1] ?? null };
}

export const conversationPath = (id: string) => `/c/${id}`;

const listeners = new Set<() => void>();

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === location.pathname) return;
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  for (const listener of listeners) listener();
}

export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      removeEventListener("popstate", update);
    };
  }, []);
  return parseRoute(path);
}

/** A click on an in-app link: handled here unless the user asked for a new tab or window. */
export function followLink(event: MouseEvent, path: string): void {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(path);
}
