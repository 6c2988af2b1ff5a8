import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { FakeModel } from "../helpers/fake-model.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { api, startServer, type TestServer } from "../helpers/server.js";
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
  messageLog,
  newBot,
  pageWidth,
  restToken,
  textUpdate,
  visible,
} from "./support/inbox.js";

// The Settings page in the real browser: without a model configured it only explains what the
// server needs; with one (the fake Chat Completions server) an agent switches automatic answers
// on, the settings survive a reload, and a new customer is answered by the model in the inbox.

const INSTRUCTIONS = "We sell bicycles. We ship to Spain and France.";

const settingsLink = (page: Page) => page.getByRole("link", { name: "Settings", exact: true });
const enabledBox = (page: Page) =>
  page.getByRole("checkbox", { name: "Automatic answers", exact: true });
const instructionsBox = (page: Page) =>
  page.getByRole("textbox", { name: "Instructions", exact: true });
const newConversations = (page: Page) =>
  page.getByRole("combobox", { name: "New conversations", exact: true });
const saveButton = (page: Page) => page.getByRole("button", { name: "Save", exact: true });

if (browserAvailable()) {
  describe("settings page in the browser", () => {
    let browser: Browser;

    before(async () => {
      ensureWebBuilt();
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
    });

    describe("without a model configured", () => {
      let server: TestServer;
      let page: Page;

      before(async () => {
        server = await startServer();
        page = await openPage(browser, server.baseUrl);
      });

      after(async () => {
        await page?.context().close();
        await server?.close();
      });

      it("explains what the server needs and offers no switch", async () => {
        await createAccount(page, `calm_${Date.now().toString(36)}`);
        await settingsLink(page).click();
        await visible(page.getByRole("heading", { name: "Settings", exact: true }));
        const note = page.getByText("Automatic answers are not set up on this server", {
          exact: false,
        });
        await visible(note);
        assert.match(await note.innerText(), /AI_BASE_URL and AI_MODEL/);
        assert.equal(await enabledBox(page).count(), 0);
        assert.equal(await saveButton(page).count(), 0);
        assert.equal(await page.getByRole("alert").count(), 0);
        assert.equal(new URL(page.url()).pathname, "/settings");
        assert.deepEqual(errorsOf(page), []);
      });
    });

    describe("with a model configured", () => {
      let telegram: FakeTelegram;
      let model: FakeModel;
      let server: TestServer;
      let page: Page;
      let bot: string;
      const username = `auto_${Date.now().toString(36)}`;
      const carla = customer(9301, "Carla", "Ruiz", "carlar");

      before(async () => {
        [telegram, model] = await Promise.all([FakeTelegram.start(), FakeModel.start()]);
        server = await startServer({
          platforms: true,
          env: {
            TELEGRAM_API_ROOT: telegram.apiRoot,
            AI_BASE_URL: model.baseUrl,
            AI_MODEL: "fake-model",
            AI_REPLY_DELAY_MS: "0",
          },
        });
        page = await openPage(browser, server.baseUrl);
        bot = newBot(telegram);
      });

      after(async () => {
        await page?.context().close();
        await server?.close();
        await model?.close();
        await telegram?.close();
      });

      it("shows the defaults: off, no instructions, new conversations to a person", async () => {
        await createAccount(page, username);
        await connectBot(page, bot, `support_${bot.split(":")[0]}_bot`);
        await settingsLink(page).click();
        await visible(enabledBox(page));
        assert.equal(await settingsLink(page).getAttribute("aria-current"), "page");
        assert.equal(await enabledBox(page).isChecked(), false);
        assert.equal(await instructionsBox(page).inputValue(), "");
        assert.equal(await instructionsBox(page).getAttribute("maxlength"), "8000");
        assert.equal(await newConversations(page).inputValue(), "support_active");
        await visible(page.getByText("0 / 8000 characters", { exact: true }));
      });

      it("saves the switch, the instructions and the new conversations' status", async () => {
        await enabledBox(page).check();
        await instructionsBox(page).fill(INSTRUCTIONS);
        await visible(page.getByText(`${INSTRUCTIONS.length} / 8000 characters`, { exact: true }));
        await newConversations(page).selectOption({ label: "Answered automatically" });
        await saveButton(page).click();
        await visible(page.getByRole("status").filter({ hasText: "Saved" }));
        assert.equal(await page.getByRole("alert").count(), 0);

        const token = await restToken(server, username);
        const stored = await api(server, "GET", "/api/ai/settings/", { token });
        assert.deepEqual(stored.body, {
          available: true,
          enabled: true,
          instructions: INSTRUCTIONS,
          new_conversation_status: "active",
        });

        // An edit after the save takes the confirmation away until the next save.
        await instructionsBox(page).press("End");
        await instructionsBox(page).press("Backspace");
        assert.equal(await page.getByRole("status").filter({ hasText: "Saved" }).count(), 0);
        await instructionsBox(page).fill(INSTRUCTIONS);
        await saveButton(page).click();
        await visible(page.getByRole("status").filter({ hasText: "Saved" }));
      });

      it("keeps them over a reload", async () => {
        await page.reload();
        await visible(enabledBox(page));
        assert.equal(await enabledBox(page).isChecked(), true);
        assert.equal(await instructionsBox(page).inputValue(), INSTRUCTIONS);
        assert.equal(await newConversations(page).inputValue(), "active");
        assert.equal(await page.getByRole("status").filter({ hasText: "Saved" }).count(), 0);
      });

      it("fits a 360 px screen without sideways scrolling", async () => {
        const phone = await openPage(
          browser,
          server.baseUrl,
          { width: 360, height: 740 },
          await page.context().storageState(),
        );
        await phone.goto("/settings");
        await visible(instructionsBox(phone));
        assert.equal(await instructionsBox(phone).inputValue(), INSTRUCTIONS);
        assert.equal(await pageWidth(phone), 360);
        await phone.context().close();
      });

      it("a new customer is answered automatically, labelled AI in the Messages log", async () => {
        await page.getByRole("link", { name: "Inbox", exact: true }).click();
        telegram.pushUpdate(bot, textUpdate(carla, "Do you ship to Madrid?"));
        await conversationList(page)
          .getByRole("link", { name: /telegram - Carla Ruiz/ })
          .click();
        await visible(messageLog(page).getByText("Do you ship to Madrid?"));
        const status = page.getByRole("combobox", { name: "Conversation status", exact: true });
        assert.equal(await status.inputValue(), "active");
        assert.equal(
          await status.evaluate(
            (el) =>
              (el as unknown as { selectedOptions: { text: string }[] }).selectedOptions[0]?.text,
          ),
          "Automatic answers",
        );

        const requests = await model.waitForRequests(1);
        const system = requests[0]?.body.messages?.[0];
        assert.equal(system?.role, "system");
        assert.ok(system?.content.includes(INSTRUCTIONS), system?.content);
        assert.deepEqual(requests[0]?.body.messages?.slice(1), [
          { role: "user", content: "Do you ship to Madrid?" },
        ]);

        const answer = messageLog(page)
          .getByRole("listitem")
          .filter({ hasText: "Thanks for writing! How can I help?" });
        await visible(answer);
        await visible(answer.getByText("AI", { exact: true }));
        const items = await messageLog(page).getByRole("listitem").allInnerTexts();
        assert.equal(items.length, 2);
        assert.match(items[0] ?? "", /^Do you ship to Madrid\?/);
        assert.match(items[1] ?? "", /^AI\s+Thanks for writing! How can I help\?/);
        // The customer gets it on Telegram too.
        const sends = await telegram.waitForCalls("sendMessage", 1);
        assert.equal(sends.at(-1)?.body.text, "Thanks for writing! How can I help?");
      });

      it("shows 'AI is typing…' while the model writes", async () => {
        let release = () => {};
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        model.script({ text: "Yes, Madrid in two days.", until: held });
        telegram.pushUpdate(bot, textUpdate(carla, "How long does it take?"));
        await visible(messageLog(page).getByText("How long does it take?"));
        await visible(page.getByText("AI is typing…", { exact: true }));
        release();
        const answer = messageLog(page)
          .getByRole("listitem")
          .filter({ hasText: "Yes, Madrid in two days." });
        await visible(answer.getByText("AI", { exact: true }));
        await eventually(
          () => page.getByText("AI is typing…", { exact: true }).count(),
          (n) => n === 0,
        );
        assert.deepEqual(errorsOf(page), []);
      });
    });
  });
}
