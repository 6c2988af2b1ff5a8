import { rmSync } from "node:fs";
import type { Message, Update, User } from "grammy/types";
import type { Locator, Page } from "playwright-core";
import { botToken, FakeTelegram } from "../../helpers/fake-telegram.js";
import { api, startServer, type TestServer } from "../../helpers/server.js";

// A real server (port 0, its own SQLite file) in Telegram polling mode against the fake Bot API,
// as on a laptop with no public address; `restart` stops it and starts a new process-equivalent
// on the same file and port, with the fake keeping whatever customers write meanwhile.

export const PASSWORD = "correct horse battery";

export interface InboxEnv {
  telegram: FakeTelegram;
  readonly server: TestServer;
  restart(whileDown?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** `extraEnv` adds server settings, e.g. a model for automatic answers. */
export async function startInbox(extraEnv: Record<string, string> = {}): Promise<InboxEnv> {
  const telegram = await FakeTelegram.start();
  const env = { ...extraEnv, TELEGRAM_API_ROOT: telegram.apiRoot };
  let server = await startServer({ platforms: true, env });
  const { dataDir } = server;
  const port = new URL(server.baseUrl).port;
  return {
    telegram,
    get server() {
      return server;
    },
    async restart(whileDown) {
      await server.close({ keepData: true });
      await whileDown?.();
      server = await startServer({ platforms: true, dataDir, env: { ...env, PORT: port } });
    },
    async close() {
      await server.close({ keepData: true });
      rmSync(dataDir, { recursive: true, force: true });
      await telegram.close();
    },
  };
}

let nextUpdateId = 500_000_000;
let nextMessageId = 1;

/** A Telegram customer. */
export function customer(id: number, first: string, last: string, username?: string): User {
  return {
    id,
    is_bot: false,
    first_name: first,
    last_name: last,
    ...(username ? { username } : {}),
    language_code: "en",
  };
}

/** A private message from `from` with `fields` (text, photo, document, ...), as getUpdates has it. */
export function messageUpdate(from: User, fields: Partial<Message>): Update {
  return {
    update_id: nextUpdateId++,
    message: {
      message_id: nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: {
        id: from.id,
        type: "private",
        first_name: from.first_name,
        ...(from.last_name ? { last_name: from.last_name } : {}),
        ...(from.username ? { username: from.username } : {}),
      },
      from,
      ...fields,
    },
  } as Update;
}

/** A private text message from `from`, as the Bot API hands it to getUpdates. */
export const textUpdate = (from: User, text: string): Update => messageUpdate(from, { text });

export const newBot = (telegram: FakeTelegram) =>
  telegram.addBot(botToken(), { first_name: "Acme Support" });

/** Signs up through the form (which signs in) and waits for the inbox. */
export async function createAccount(page: Page, username: string, firstName = "Ada") {
  await page.goto("/");
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await page.getByRole("textbox", { name: "Username", exact: true }).fill(username);
  await page.getByRole("textbox", { name: "First name", exact: true }).fill(firstName);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await page.getByRole("link", { name: "Inbox", exact: true }).waitFor();
}

/** Connects a bot on the Channels page and goes back to the inbox. */
export async function connectBot(page: Page, token: string, botName: string) {
  await page.getByRole("link", { name: "Channels", exact: true }).click();
  await page.getByRole("textbox", { name: "Bot token", exact: true }).fill(token);
  await page.getByRole("button", { name: "Connect Telegram", exact: true }).click();
  await page.getByRole("listitem").filter({ hasText: botName }).waitFor();
  await page.getByRole("link", { name: "Inbox", exact: true }).click();
}

export const conversationList = (page: Page) =>
  page.getByRole("list", { name: "Conversations", exact: true });
export const messageLog = (page: Page) => page.getByRole("log", { name: "Messages", exact: true });

/** The texts of the log's items, in the order shown. */
export const logItems = (page: Page) => messageLog(page).getByRole("listitem").allInnerTexts();

/** Polls `read` until `accept` says yes; the last value goes into the error otherwise. */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value)) {
    if (Date.now() > deadline) {
      throw new Error(
        `condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

export async function visible(locator: Locator): Promise<void> {
  await locator.waitFor({ state: "visible" });
}

/** A signed-in REST view of the same account, to compare the screen with the server's truth. */
export async function restToken(server: TestServer, username: string): Promise<string> {
  const res = await api<{ access: string }>(server, "POST", "/api/auth/token/", {
    body: { username, password: PASSWORD },
  });
  return res.body.access;
}

/** Presses Tab until `target` has the focus (at most `limit` times). */
export async function tabTo(page: Page, target: Locator, limit = 25): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await target.evaluate((el) => el === el.ownerDocument.activeElement)) return;
  }
  throw new Error(`focus never reached ${target}`);
}

/** How wide the document is laid out: more than the viewport means sideways scrolling. */
export const pageWidth = (page: Page) => page.locator("html").evaluate((el) => el.scrollWidth);

export const outlineOf = (target: Locator) =>
  target.evaluate((el) => {
    const style = el.ownerDocument.defaultView?.getComputedStyle(el);
    if (!style) return "";
    return `${style.outlineStyle} ${style.outlineWidth}`;
  });
