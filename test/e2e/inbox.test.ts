import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { telegramError } from "../helpers/fake-telegram.js";
import { api, ingest, registerUser } from "../helpers/server.js";
import {
  browserAvailable,
  ensureWebBuilt,
  errorsOf,
  launchBrowser,
  openPage,
} from "./support/browser.js";
import {
  connectBot,
  conversationList,
  createAccount,
  customer,
  eventually,
  type InboxEnv,
  logItems,
  messageLog,
  newBot,
  outlineOf,
  PASSWORD,
  pageWidth,
  restToken,
  startInbox,
  tabTo,
  textUpdate,
  visible,
} from "./support/inbox.js";

// One agent's day in the real browser against the real server: a customer writes, the agent
// answers, delivery succeeds and fails, the list is searched and filtered, and the server
// restarts in the middle of a conversation.

if (browserAvailable()) {
  describe("inbox in the browser", () => {
    let env: InboxEnv;
    let browser: Browser;
    let page: Page;
    let token: string;
    const username = `agent_${Date.now().toString(36)}`;
    const john = customer(9001, "John", "Doe", "johnd");
    const maria = customer(9002, "Maria", "Garcia", "mgarcia");

    before(async () => {
      ensureWebBuilt();
      [env, browser] = await Promise.all([startInbox(), launchBrowser()]);
      page = await openPage(browser, env.server.baseUrl);
      token = newBot(env.telegram);
    });

    after(async () => {
      await browser?.close();
      await env?.close();
    });

    it("creates an account and connects a bot on the Channels page", async () => {
      await createAccount(page, username);
      const botName = `support_${token.split(":")[0]}_bot`;
      await connectBot(page, token, botName);
      await visible(page.getByText("No conversations yet", { exact: false }));
    });

    it("shows a customer's message live, with its unread count and the tab title", async () => {
      env.telegram.pushUpdate(token, textUpdate(john, "Hi, where is my order?"));
      const link = conversationList(page).getByRole("link", { name: /telegram - John Doe/ });
      await visible(link);
      assert.match(await link.innerText(), /Hi, where is my order\?/);
      assert.match(await link.innerText(), /(^|\s)1(\s|$)/);
      await eventually(
        () => page.title(),
        (t) => t === "(1) Fiko Chat",
      );
    });

    it("opens the conversation with the customer's profile and marks it read", async () => {
      await conversationList(page)
        .getByRole("link", { name: /telegram - John Doe/ })
        .click();
      await visible(page.getByRole("heading", { name: "John Doe" }));
      await visible(page.getByText("@johnd"));
      await visible(messageLog(page).getByText("Hi, where is my order?"));
      await eventually(
        () => page.title(),
        (t) => t === "Fiko Chat",
      );
      const link = conversationList(page).getByRole("link", { name: /telegram - John Doe/ });
      assert.equal(await link.getAttribute("aria-current"), "true");
    });

    it("sends a reply with Enter, shown as Sending then Sent, stored and delivered once", async () => {
      const box = page.getByRole("textbox", { name: "Message", exact: true });
      await box.fill("It ships today.");
      await box.press("Shift+Enter");
      await box.pressSequentially("Tracking follows.");
      await box.press("Enter");
      const item = messageLog(page).getByRole("listitem").filter({ hasText: "It ships today." });
      await visible(item.getByText("Sent", { exact: true }));
      assert.equal(await box.inputValue(), "");
      const sends = await env.telegram.waitForCalls("sendMessage", 1);
      assert.equal(sends.length, 1);
      assert.equal(sends[0]?.body.text, "It ships today.\nTracking follows.");
      assert.equal(String(sends[0]?.body.chat_id), String(john.id));
    });

    it("shows who is typing to a second agent signed in to the same account", async () => {
      const second = await openPage(
        browser,
        env.server.baseUrl,
        undefined,
        await page.context().storageState(),
      );
      await second.goto(new URL(page.url()).pathname);
      await visible(messageLog(second).getByText("It ships today."));
      const typing = second.getByText(`${username} is typing…`);
      const box = page.getByRole("textbox", { name: "Message", exact: true });
      await box.pressSequentially("Let me check");
      await visible(typing);
      // Clearing the box tells the others at once that the typing stopped.
      await box.fill("");
      await typing.waitFor({ state: "detached" });
      await second.context().close();
    });

    it("shows Failed with the platform's reason when Telegram refuses", async () => {
      env.telegram.script(
        "sendMessage",
        telegramError(403, "Forbidden: bot was blocked by the user"),
      );
      await page.getByRole("textbox", { name: "Message", exact: true }).fill("Are you there?");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const item = messageLog(page).getByRole("listitem").filter({ hasText: "Are you there?" });
      await visible(item.getByText(/^Failed/));
      assert.match(await item.innerText(), /Failed: The customer blocked the bot/);
    });

    it("finds conversations by search and filters them by status", async () => {
      env.telegram.pushUpdate(token, textUpdate(maria, "Do you ship to Spain?"));
      const mariaLink = conversationList(page).getByRole("link", {
        name: /telegram - Maria Garcia/,
      });
      await visible(mariaLink);
      const links = conversationList(page).getByRole("link");
      assert.equal(await links.count(), 2);
      // Newest activity first.
      assert.match((await links.first().getAttribute("aria-label")) ?? "", /Maria Garcia/);

      await page.getByRole("searchbox", { name: "Search conversations" }).fill("garc");
      await eventually(
        () => links.count(),
        (n) => n === 1,
      );
      await visible(mariaLink);
      await page.getByRole("searchbox", { name: "Search conversations" }).fill("");
      await eventually(
        () => links.count(),
        (n) => n === 2,
      );

      await page
        .getByRole("combobox", { name: "Conversation status", exact: true })
        .selectOption({ label: "Closed" });
      await page
        .getByRole("combobox", { name: "Status", exact: true })
        .selectOption({ label: "Closed" });
      await eventually(
        () => links.count(),
        (n) => n === 1,
      );
      await visible(conversationList(page).getByRole("link", { name: /John Doe/ }));
      await page
        .getByRole("combobox", { name: "Status", exact: true })
        .selectOption({ label: "Support" });
      await eventually(
        () => links.count(),
        (n) => n === 1,
      );
      await visible(mariaLink);
      await page
        .getByRole("combobox", { name: "Status", exact: true })
        .selectOption({ label: "All" });
      await eventually(
        () => links.count(),
        (n) => n === 2,
      );

      const access = await restToken(env.server, username);
      const list = await api<{ conversations: { title: string; status: string }[] }>(
        env.server,
        "GET",
        "/api/conversations/?status=closed",
        { token: access },
      );
      assert.deepEqual(
        list.body.conversations.map((c) => c.title),
        ["telegram - John Doe"],
      );
    });

    it("survives a server restart with nothing missing or doubled", async () => {
      await conversationList(page)
        .getByRole("link", { name: /John Doe/ })
        .click();
      await visible(messageLog(page).getByText("Are you there?"));
      const banner = page.getByRole("status").filter({ hasText: "Reconnecting" });
      await env.restart(async () => {
        await visible(banner);
        env.telegram.pushUpdate(token, textUpdate(john, "Hello? Anyone?"));
        await page.getByRole("textbox", { name: "Message", exact: true }).fill("Back in a moment.");
        await page.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
        const pending = messageLog(page)
          .getByRole("listitem")
          .filter({ hasText: "Back in a moment." });
        await visible(pending.getByText("Sending", { exact: true }));
      });
      await banner.waitFor({ state: "detached", timeout: 15000 });
      await visible(messageLog(page).getByText("Hello? Anyone?"));
      const reply = messageLog(page).getByRole("listitem").filter({ hasText: "Back in a moment." });
      await visible(reply.getByText("Sent", { exact: true }));

      const access = await restToken(env.server, username);
      const convs = await api<{ conversations: { id: string; title: string }[] }>(
        env.server,
        "GET",
        "/api/conversations/",
        { token: access },
      );
      const id = convs.body.conversations.find((c) => c.title === "telegram - John Doe")?.id;
      const stored = await api<{ messages: { content: string; seq: number }[] }>(
        env.server,
        "GET",
        `/api/conversations/${id}/messages/`,
        { token: access },
      );
      const contents = stored.body.messages.map((m) => m.content);
      assert.equal(contents.filter((c) => c === "Back in a moment.").length, 1);
      assert.equal(contents.filter((c) => c === "Hello? Anyone?").length, 1);
      assert.equal(contents.length, 5);
      // The screen holds exactly the stored messages, in seq order.
      const shown = await eventually(
        () => logItems(page),
        (items) => items.length === 5,
      );
      for (const [i, content] of contents.entries()) {
        assert.ok(shown[i]?.startsWith(content), `item ${i}: ${shown[i]} is not ${content}`);
      }
      // A reload shows the same.
      await page.reload();
      await eventually(
        () => logItems(page),
        (items) => items.length === 5,
      );
    });

    it("removes the channel", async () => {
      await page.getByRole("link", { name: "Channels", exact: true }).click();
      const row = page.getByRole("listitem").filter({ hasText: /support_\d+_bot/ });
      await row.getByRole("button", { name: "Remove", exact: true }).click();
      await visible(page.getByText("No channels yet."));
      assert.ok(env.telegram.callsTo("deleteWebhook").length >= 1);
    });

    it("signs out, forgets the tokens, and rejects a wrong password with an alert", async () => {
      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      await visible(page.getByRole("button", { name: "Sign in", exact: true }));
      await page.reload();
      await visible(page.getByRole("button", { name: "Sign in", exact: true }));
      await page.getByRole("textbox", { name: "Username", exact: true }).fill(username);
      await page.getByLabel("Password", { exact: true }).fill("not the password");
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await visible(page.getByRole("alert"));
      assert.equal(
        await page.getByRole("textbox", { name: "Username", exact: true }).inputValue(),
        username,
      );
      assert.deepEqual(
        errorsOf(page).filter((e) => !/401|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e)),
        [],
      );
    });
    it("works with the keyboard alone, with a visible focus, and stays signed in on reload", async () => {
      await page.goto("/");
      const usernameBox = page.getByRole("textbox", { name: "Username", exact: true });
      await tabTo(page, usernameBox);
      assert.notEqual(await outlineOf(usernameBox), "none 0px");
      await page.keyboard.type(username);
      await page.keyboard.press("Tab");
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press("Enter");

      const link = conversationList(page).getByRole("link", { name: /telegram - Maria Garcia/ });
      await tabTo(page, link);
      assert.match(await outlineOf(link), /^solid/);
      await page.keyboard.press("Enter");
      await visible(messageLog(page).getByText("Do you ship to Spain?"));

      const box = page.getByRole("textbox", { name: "Message", exact: true });
      await tabTo(page, box);
      await page.keyboard.type("Yes, in 3 to 5 days.");
      await page.keyboard.press("Enter");
      const item = messageLog(page)
        .getByRole("listitem")
        .filter({ hasText: "Yes, in 3 to 5 days." });
      await visible(item.getByText("Sent", { exact: true }));

      await page.reload();
      await visible(messageLog(page).getByText("Yes, in 3 to 5 days."));
      assert.equal(await page.getByRole("button", { name: "Sign in", exact: true }).count(), 0);
    });

    it("shows list and chat as two screens at 360 px, with a way back", async () => {
      const phone = await openPage(browser, env.server.baseUrl, { width: 360, height: 740 });
      await phone.goto("/");
      await phone.getByRole("textbox", { name: "Username", exact: true }).fill(username);
      await phone.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await phone.getByRole("button", { name: "Sign in", exact: true }).click();

      const link = conversationList(phone).getByRole("link", { name: /telegram - Maria Garcia/ });
      await visible(link);
      assert.equal(await messageLog(phone).count(), 0);
      assert.equal(await pageWidth(phone), 360, "nothing sticks out sideways");

      await link.click();
      await visible(messageLog(phone));
      assert.equal(await conversationList(phone).isVisible(), false);
      await visible(phone.getByRole("textbox", { name: "Message", exact: true }));
      await visible(phone.getByRole("combobox", { name: "Conversation status", exact: true }));
      assert.equal(await pageWidth(phone), 360);

      await phone.getByRole("link", { name: "Back to conversations" }).click();
      await visible(conversationList(phone));
      assert.equal(await messageLog(phone).count(), 0);
      await phone.context().close();
    });
    it("pages the list by cursor and the history upwards, keeping the reading position", async () => {
      const other = await registerUser(env.server);
      const first = await ingest(env.server, other.id, "History 1", { externalId: "5000" });
      for (let i = 2; i <= 70; i++) {
        await ingest(
          env.server,
          other.id,
          `History ${i}`,
          { externalId: "5000" },
          {
            channelId: first.channelId,
          },
        );
      }
      for (let i = 1; i <= 50; i++) {
        await ingest(
          env.server,
          other.id,
          `Hello from ${i}`,
          {
            externalId: String(6000 + i),
            firstName: "Customer",
            lastName: `Number${i}`,
          },
          { channelId: first.channelId },
        );
      }
      const wide = await openPage(browser, env.server.baseUrl);
      await wide.goto("/");
      await wide.getByRole("textbox", { name: "Username", exact: true }).fill(other.username);
      await wide.getByLabel("Password", { exact: true }).fill("correct horse battery");
      await wide.getByRole("button", { name: "Sign in", exact: true }).click();

      // 51 conversations: a first page, then the rest once the end of the list is in view.
      const links = conversationList(wide).getByRole("link");
      await eventually(
        () => links.count(),
        (n) => n > 0 && n < 51,
      );
      await links.last().scrollIntoViewIfNeeded();
      await eventually(
        () => links.count(),
        (n) => n === 51,
      );
      const john = conversationList(wide).getByRole("link", { name: /telegram - John Doe/ });
      await john.scrollIntoViewIfNeeded();
      await john.click();

      // 70 messages: the newest page first; scrolling up loads the older ones above.
      const items = messageLog(wide).getByRole("listitem");
      await visible(messageLog(wide).getByText("History 70", { exact: true }));
      const firstPage = await items.count();
      assert.ok(firstPage < 70, `${firstPage} messages at first`);
      const oldestShown = messageLog(wide).getByText(`History ${71 - firstPage}`, { exact: true });
      await messageLog(wide).evaluate((el) => {
        el.scrollTop = 0;
      });
      await eventually(
        () => items.count(),
        (n) => n > firstPage,
      );
      // The message that was at the top stays in view where it was, not pushed away.
      const box = await oldestShown.boundingBox();
      const log = await messageLog(wide).boundingBox();
      assert.ok(box && log && box.y >= log.y - 5 && box.y < log.y + log.height, "kept in view");
      await messageLog(wide).evaluate((el) => {
        el.scrollTop = 0;
      });
      await eventually(
        () => items.count(),
        (n) => n === 70,
      );
      await visible(messageLog(wide).getByText("History 1", { exact: true }));
      const texts = await items.allInnerTexts();
      for (const [i, text] of texts.entries())
        assert.ok(text.startsWith(`History ${i + 1}\n`), text);
      await wide.context().close();
    });
    it("shows a desktop notification for a customer's message while the tab is hidden", async () => {
      const agent = await registerUser(env.server);
      const watcher = await openPage(browser, env.server.baseUrl);
      // The page sees a hidden tab and a granted permission; the notifications it would show
      // are recorded instead of reaching the desktop.
      await watcher.addInitScript(`
        window.shown = [];
        window.Notification = class {
          static permission = "granted";
          static requestPermission() { return Promise.resolve("granted"); }
          constructor(title, options) { window.shown.push({ title, body: options.body }); }
          close() {}
        };
        Object.defineProperty(document, "hidden", { get: () => true });
        Object.defineProperty(document, "visibilityState", { get: () => "hidden" });
      `);
      await watcher.goto("/");
      await watcher.getByRole("textbox", { name: "Username", exact: true }).fill(agent.username);
      await watcher.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await watcher.getByRole("button", { name: "Sign in", exact: true }).click();
      await visible(watcher.getByText("No conversations yet", { exact: false }));
      await ingest(env.server, agent.id, "Is anyone there?", {
        firstName: "Noah",
        lastName: "Smith",
      });
      await visible(conversationList(watcher).getByRole("link", { name: /Noah Smith/ }));
      const shown = await eventually(
        () => watcher.evaluate("window.shown") as Promise<{ title: string; body: string }[]>,
        (list) => list.length > 0,
      );
      assert.deepEqual(shown, [{ title: "Noah Smith", body: "Is anyone there?" }]);
      await watcher.context().close();
    });
  });
}
