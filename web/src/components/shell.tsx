import { useEffect, useState } from "preact/hooks";
import {
  useDesktopNotifications,
  useDismissed,
  useNotificationPermission,
} from "../lib/notifications.js";
import { followLink, type Route, useRoute } from "../lib/router.js";
import { useConnection } from "../lib/use-connection.js";
import { useStore } from "../lib/use-store.js";
import type { FikoClient, UserView } from "../sdk.js";
import { ChannelsPage } from "./channels-page.js";
import { Inbox } from "./inbox.js";
import { SettingsPage } from "./settings-page.js";

function NavLink({ href, label, current }: { href: string; label: string; current: boolean }) {
  return (
    <a
      href={href}
      class="nav-link"
      aria-current={current ? "page" : undefined}
      onClick={(event) => followLink(event, href)}
    >
      {label}
    </a>
  );
}

const isInbox = (route: Route) => route.page === "inbox";

/** The signed-in app: top bar, connection banner, and the page of the current path. */
export function Shell({ client, user }: { client: FikoClient; user: UserView }) {
  const route = useRoute();
  // One live list for the whole session: it feeds the inbox, the tab title and notifications.
  const [list] = useState(() => client.conversations());
  useEffect(() => () => list.close(), [list]);
  const { unreadTotal } = useStore(list);
  const connection = useConnection(client);
  const [permission, askPermission] = useNotificationPermission();
  const [hintDismissed, dismissHint] = useDismissed("fiko.notifications-hint");
  useDesktopNotifications(list);

  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${unreadTotal}) Fiko Chat` : "Fiko Chat";
  }, [unreadTotal]);

  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand">
          <span class="brand-mark" aria-hidden="true" />
          <span class="brand-text">Fiko Chat</span>
        </span>
        <nav aria-label="Main" class="nav">
          <NavLink href="/" label="Inbox" current={isInbox(route)} />
          <NavLink href="/channels" label="Channels" current={route.page === "channels"} />
          <NavLink href="/settings" label="Settings" current={route.page === "settings"} />
        </nav>
        <div class="topbar-end">
          <span class="who" title={`Signed in as ${user.username}`}>
            {user.first_name || user.username}
          </span>
          <button type="button" class="button ghost small" onClick={() => client.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      {permission === "default" && !hintDismissed && (
        <div class="hint">
          <span>Get a desktop notification when a customer writes while this tab is hidden.</span>
          <span class="hint-actions">
            <button type="button" class="link-button" onClick={askPermission}>
              Enable notifications
            </button>
            <button type="button" class="link-button muted" onClick={dismissHint}>
              Not now
            </button>
          </span>
        </div>
      )}
      <div role="status" class={connection === "reconnecting" ? "banner" : "banner hidden"}>
        {connection === "reconnecting" ? "Reconnecting…" : ""}
      </div>
      <main class="page">
        {route.page === "channels" ? (
          <ChannelsPage client={client} />
        ) : route.page === "settings" ? (
          <SettingsPage client={client} />
        ) : (
          <Inbox client={client} list={list} selectedId={route.conversationId} />
        )}
      </main>
    </div>
  );
}
