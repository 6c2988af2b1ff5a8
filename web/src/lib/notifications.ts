import { useEffect, useState } from "preact/hooks";
import type { ConversationList } from "../sdk.js";
import { customerName } from "./format.js";
import { conversationPath, navigate } from "./router.js";

const supported = () => typeof Notification !== "undefined";

/** The browser's notification permission, and a way to ask for it (only after a click). */
export function useNotificationPermission(): [NotificationPermission | "unsupported", () => void] {
  const [permission, setPermission] = useState<NotificationPermission | "unsupported">(
    supported() ? Notification.permission : "unsupported",
  );
  const ask = () => {
    if (!supported()) return;
    void Notification.requestPermission().then(setPermission);
  };
  return [permission, ask];
}

/** A desktop notification per new customer message, only while this tab is hidden. */
export function useDesktopNotifications(list: ConversationList): void {
  useEffect(
    () =>
      list.onNewCustomerMessage(({ conversation_id, message }) => {
        if (!document.hidden || !supported() || Notification.permission !== "granted") return;
        const title = message.customer ? customerName(message.customer) : "New message";
        const notification = new Notification(title, {
          body: message.content,
          tag: conversation_id,
        });
        notification.onclick = () => {
          window.focus();
          navigate(conversationPath(conversation_id));
          notification.close();
        };
      }),
    [list],
  );
}

/** A hint the user closed stays closed on this browser. */
export function useDismissed(key: string): [boolean, () => void] {
  const [dismissed, setDismissed] = useState(() => localStorage.getItem(key) === "1");
  return [
    dismissed,
    () => {
      localStorage.setItem(key, "1");
      setDismissed(true);
    },
  ];
}
