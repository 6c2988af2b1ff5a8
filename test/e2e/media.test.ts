import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { SAMPLES } from "../helpers/media-samples.js";
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
  messageLog,
  messageUpdate,
  newBot,
  pageWidth,
  startInbox,
  visible,
} from "./support/inbox.js";

// Media in the real browser against the real server: a customer's photo, file and location
// arrive through the fake Telegram and show inline; the agent attaches a file (picked, pasted or
// dropped), sees it upload, and the fake Telegram receives it with the caption.

const UPLOAD_LIMIT = 4096;

// Runs in the page (a string, as this file compiles without the DOM's types): makes a File of
// the bytes and fires a paste on the reply box or a drag-and-drop on the message log.
const FILE_EVENT = `({ kind, name, data }) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const type = name.endsWith(".pdf") ? "application/pdf" : "image/png";
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const init = { bubbles: true, cancelable: true };
  if (kind === "paste") {
    document.querySelector("textarea[aria-label='Message']")
      .dispatchEvent(new ClipboardEvent("paste", { ...init, clipboardData: transfer }));
  } else {
    const log = document.querySelector("[role='log']");
    for (const type of ["dragover", "drop"]) {
      log.dispatchEvent(new DragEvent(type, { ...init, dataTransfer: transfer }));
    }
  }
}`;

/** Pastes `bytes` as a file into the reply box, or drops it on the conversation. */
async function fileEvent(page: Page, kind: "paste" | "drop", name: string, bytes: Buffer) {
  await page.evaluate(
    `(${FILE_EVENT})(${JSON.stringify({ kind, name, data: bytes.toString("base64") })})`,
  );
}

if (browserAvailable()) {
  describe("media in the inbox", () => {
    let env: InboxEnv;
    let browser: Browser;
    let page: Page;
    let token: string;
    const lena = customer(9301, "Lena", "Park", "lenap");

    before(async () => {
      ensureWebBuilt();
      [env, browser] = await Promise.all([
        startInbox({ MAX_UPLOAD_BYTES: String(UPLOAD_LIMIT) }),
        launchBrowser(),
      ]);
      page = await openPage(browser, env.server.baseUrl);
      token = newBot(env.telegram);
      await createAccount(page, `media_${Date.now().toString(36)}`);
      await connectBot(page, token, `support_${token.split(":")[0]}_bot`);
    });

    after(async () => {
      await browser?.close();
      await env?.close();
    });

    it("shows a customer's photo inline and full size, a file as a link, a location as a map link", async () => {
      env.telegram.addFile("photo-big", SAMPLES.png);
      env.telegram.addFile("invoice", SAMPLES.pdf);
      env.telegram.pushUpdate(
        token,
        messageUpdate(lena, {
          photo: [
            { file_id: "photo-small", file_unique_id: "ps", width: 90, height: 90 },
            { file_id: "photo-big", file_unique_id: "pb", width: 320, height: 240 },
          ],
          caption: "The box arrived like this",
        }),
      );
      const link = conversationList(page).getByRole("link", { name: /telegram - Lena Park/ });
      await visible(link);
      await link.click();
      const photoItem = messageLog(page)
        .getByRole("listitem")
        .filter({ hasText: "The box arrived like this" });
      const image = photoItem.getByRole("img", { name: "Photo" });
      await visible(image);
      // The signed link loads in an <img> with no token: the browser decoded real pixels.
      await eventually(
        () => image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
        (width) => width === 1,
      );
      assert.equal(await image.getAttribute("width"), "320");
      assert.match(
        (await image.getAttribute("src")) ?? "",
        /^\/api\/attachments\/.+\?exp=\d+&sig=/,
      );

      await photoItem.getByRole("button", { name: "Open photo" }).click();
      const viewer = page.getByRole("dialog", { name: "Photo" });
      await visible(viewer);
      await page.keyboard.press("Escape");
      await viewer.waitFor({ state: "hidden" });

      env.telegram.pushUpdate(
        token,
        messageUpdate(lena, {
          document: {
            file_id: "invoice",
            file_unique_id: "inv",
            file_name: "invoice.pdf",
            mime_type: "application/pdf",
            file_size: SAMPLES.pdf.length,
          },
        }),
      );
      const file = messageLog(page).getByRole("link", { name: "invoice.pdf (600 B)" });
      await visible(file);
      const download = await fetch(env.server.baseUrl + ((await file.getAttribute("href")) ?? ""));
      assert.equal(download.status, 200);
      assert.equal(download.headers.get("content-type"), "application/pdf");
      assert.match(download.headers.get("content-disposition") ?? "", /^attachment/);

      env.telegram.pushUpdate(
        token,
        messageUpdate(lena, {
          venue: {
            location: { latitude: 52.52, longitude: 13.405 },
            title: "Pickup point",
            address: "Alexanderplatz 1",
          },
          location: { latitude: 52.52, longitude: 13.405 },
        }),
      );
      const map = messageLog(page).getByRole("link", { name: "Pickup point, Alexanderplatz 1" });
      await visible(map);
      assert.equal(
        await map.getAttribute("href"),
        "https://www.openstreetmap.org/?mlat=52.52&mlon=13.405#map=16/52.52/13.405",
      );
      // A file Telegram will not hand to a bot (over 20 MB) says so once the fetch is refused.
      env.telegram.addFile("too-big", SAMPLES.pdf, { tooBig: true });
      env.telegram.pushUpdate(
        token,
        messageUpdate(lena, {
          document: { file_id: "too-big", file_unique_id: "tb", file_name: "scan.pdf" },
        }),
      );
      await visible(messageLog(page).getByText('File "scan.pdf": the file could not be fetched'));
      // A caption-less file shows the file, not its "[document]" label.
      assert.equal(await messageLog(page).getByText("[document]").count(), 0);
    });

    it("attaches a picked file with a caption, shows it sending, then Sent, and delivers it once", async () => {
      const chooser = page.waitForEvent("filechooser");
      await page.getByRole("button", { name: "Attach file", exact: true }).click();
      await (await chooser).setFiles({
        name: "replacement.png",
        mimeType: "image/png",
        buffer: SAMPLES.png,
      });
      const staged = page.getByRole("group", { name: "File to send" });
      await visible(staged.getByRole("img", { name: "replacement.png" }));
      const box = page.getByRole("textbox", { name: "Message", exact: true });
      assert.equal(await box.getAttribute("placeholder"), "Add a caption…");
      await box.fill("A new one is on its way");
      await box.press("Enter");
      await staged.waitFor({ state: "detached" });

      const item = messageLog(page)
        .getByRole("listitem")
        .filter({ hasText: "A new one is on its way" });
      await visible(item.getByText("Sent", { exact: true }));
      await visible(item.getByRole("img", { name: "replacement.png" }));
      const [sent] = await env.telegram.waitForCalls("sendPhoto", 1);
      assert.equal(sent?.body.caption, "A new one is on its way");
      assert.equal(String(sent?.body.chat_id), String(lena.id));
      assert.deepEqual(sent?.upload?.bytes, SAMPLES.png);
      assert.equal(env.telegram.callsTo("sendPhoto").length, 1);
      assert.deepEqual(errorsOf(page), []);
    });

    it("takes a pasted image and a dropped file, and a file can be removed before sending", async () => {
      await fileEvent(page, "paste", "", SAMPLES.png);
      const staged = page.getByRole("group", { name: "File to send" });
      await visible(staged.getByText("pasted-image.png"));
      await staged.getByRole("button", { name: "Remove file" }).click();
      await staged.waitFor({ state: "detached" });

      await fileEvent(page, "drop", "terms.pdf", SAMPLES.pdf);
      await visible(staged.getByText("terms.pdf"));
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const item = messageLog(page).getByRole("listitem").filter({ hasText: "terms.pdf" });
      await visible(item.getByText("Sent", { exact: true }));
      const [sent] = await env.telegram.waitForCalls("sendDocument", 1);
      assert.equal(sent?.body.caption, undefined);
      assert.deepEqual(sent?.upload?.bytes, SAMPLES.pdf);
    });

    it("shows a file over the upload limit as Failed with the reason, and keeps the page usable", async () => {
      const chooser = page.waitForEvent("filechooser");
      await page.getByRole("button", { name: "Attach file", exact: true }).click();
      await (await chooser).setFiles({
        name: "huge.pdf",
        mimeType: "application/pdf",
        buffer: Buffer.concat([SAMPLES.pdf, Buffer.alloc(UPLOAD_LIMIT)]),
      });
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const item = messageLog(page).getByRole("listitem").filter({ hasText: "huge.pdf" });
      await visible(item.getByText(/^Failed/));
      assert.match(await item.innerText(), /Failed: .+/);
      await visible(item.getByRole("button", { name: "Retry" }));
      assert.equal(env.telegram.callsTo("sendDocument").length, 1);
    });

    it("fits a photo and the attach control into 360 px", async () => {
      await page.setViewportSize({ width: 360, height: 740 });
      await visible(page.getByRole("button", { name: "Attach file", exact: true }));
      const image = messageLog(page).getByRole("img", { name: "Photo" }).first();
      await image.scrollIntoViewIfNeeded();
      const box = await image.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 360, JSON.stringify(box));
      assert.equal(await pageWidth(page), 360);
      await page.setViewportSize({ width: 1280, height: 800 });
    });
  });
}
