import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { User } from "grammy/types";
import type { Page } from "playwright-core";
import { ensureWebBuilt, launchBrowser, openPage } from "../test/e2e/support/browser.js";
import {
  conversationList,
  customer,
  eventually,
  messageLog,
  messageUpdate,
  newBot,
  PASSWORD,
  startInbox,
  textUpdate,
  visible,
} from "../test/e2e/support/inbox.js";
import { api } from "../test/helpers/server.js";

// Regenerates docs/screenshots/*.png from a real server with demo conversations:
// `npm run screenshots`. Needs Chromium at /usr/bin/chromium.

const OUT = join(import.meta.dirname, "..", "docs", "screenshots");

// A customer's photo for the demo conversation, drawn by the browser itself (a string: this
// file compiles without the DOM's types): a parcel label on a table.
const DRAW_PHOTO = `(() => {
  const canvas = document.createElement("canvas");
  canvas.width = 480;
  canvas.height = 320;
  const g = canvas.getContext("2d");
  const wood = g.createLinearGradient(0, 0, 480, 320);
  wood.addColorStop(0, "#c89b6d");
  wood.addColorStop(1, "#8a5a35");
  g.fillStyle = wood;
  g.fillRect(0, 0, 480, 320);
  g.fillStyle = "#d9b382";
  g.fillRect(70, 50, 340, 230);
  g.fillStyle = "#fdfcf8";
  g.fillRect(120, 90, 240, 150);
  g.fillStyle = "#1c1f23";
  g.font = "bold 22px sans-serif";
  g.fillText("ORDER #4821", 140, 125);
  g.font = "15px sans-serif";
  g.fillText("Sofia Martins", 140, 152);
  g.fillText("Rua das Flores 12, Lisboa", 140, 174);
  for (let x = 140; x < 340; x += 6) g.fillRect(x, 192, x % 18 === 0 ? 4 : 2, 34);
  return canvas.toDataURL("image/png").split(",")[1];
})()`;

async function seed(baseUrl: string, env: Awaited<ReturnType<typeof startInbox>>, photo: Buffer) {
  const server = { baseUrl };
  await api(server, "POST", "/api/auth/register/", {
    body: { username: "ada", password: PASSWORD, first_name: "Ada", last_name: "Lovelace" },
  });
  const login = await api<{ access: string }>(server, "POST", "/api/auth/token/", {
    body: { username: "ada", password: PASSWORD },
  });
  const token = login.body.access;
  const bot = newBot(env.telegram);
  await api(server, "POST", "/api/channels/", {
    token,
    body: { platform: "telegram", bot_token: bot },
  });
  const people = [
    customer(801, "Sofia", "Martins", "sofiam"),
    customer(802, "Liam", "O'Brien", "liamob"),
    customer(803, "Mei", "Tanaka"),
    customer(804, "Jonas", "Weber", "jweber"),
    customer(805, "Amara", "Okafor", "amara.ok"),
  ];
  const [sofia, liam, mei, jonas, amara] = people as [User, User, User, User, User];
  const script: [User, string][] = [
    [jonas, "Is the blue backpack back in stock?"],
    [amara, "Thanks, the parcel arrived today!"],
    [mei, "Can I pay by bank transfer?"],
    [liam, "My discount code SPRING10 does not work"],
    [sofia, "Hi! I ordered a lamp last week (order #4821)"],
    [sofia, "The tracking page has not changed since Monday. Is it lost?"],
  ];
  let count = 0;
  for (const [who, text] of script) {
    env.telegram.pushUpdate(bot, textUpdate(who, text));
    count++;
    await eventually(
      () =>
        api<{ conversations: { unread_count: number }[] }>(server, "GET", "/api/conversations/", {
          token,
        }),
      (res) => res.body.conversations.reduce((n, c) => n + c.unread_count, 0) === count,
    );
  }
  const list = await api<{ conversations: { id: string; title: string }[] }>(
    server,
    "GET",
    "/api/conversations/",
    { token },
  );
  const idOf = (name: string) => list.body.conversations.find((c) => c.title.includes(name))?.id;
  const reply = (id: string | undefined, content: string) =>
    api(server, "POST", `/api/conversations/${id}/messages/`, { token, body: { content } });
  await reply(idOf("Amara"), "Wonderful, enjoy it!");
  await api(server, "PATCH", `/api/conversations/${idOf("Amara")}/`, {
    token,
    body: { status: "closed" },
  });
  await api(server, "POST", `/api/conversations/${idOf("Amara")}/read/`, { token });
  await reply(
    idOf("Liam"),
    "Sorry about that! The code expired on Sunday; I have sent you a new one.",
  );
  await api(server, "POST", `/api/conversations/${idOf("Liam")}/read/`, { token });
  await api(server, "PATCH", `/api/conversations/${idOf("Liam")}/`, {
    token,
    body: { priority: 2 },
  });
  await reply(idOf("Sofia"), "Hi Sofia, let me check with the carrier.");
  env.telegram.addFile("label-photo", photo);
  env.telegram.pushUpdate(
    bot,
    messageUpdate(sofia, {
      photo: [{ file_id: "label-photo", file_unique_id: "lp", width: 480, height: 320 }],
      caption: "Thank you! This is the label on my receipt.",
    }),
  );
  await eventually(
    () =>
      api<{ messages: unknown[] }>(server, "GET", `/api/conversations/${idOf("Sofia")}/messages/`, {
        token,
      }),
    (res) => res.body.messages.length === 4,
  );
  // The agent's answer with a file, uploaded as the inbox does it.
  const form = new FormData();
  form.append(
    "content",
    "Found it: it is in Porto and arrives Friday. Your return label, just in case.",
  );
  form.append(
    "file",
    new Blob([Buffer.from("%PDF-1.4\n% return label\n")], { type: "application/pdf" }),
    "return-label.pdf",
  );
  await fetch(`${baseUrl}/api/conversations/${idOf("Sofia")}/messages/`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

async function signIn(page: Page) {
  await page.goto("/");
  await page.getByRole("textbox", { name: "Username", exact: true }).fill("ada");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await visible(conversationList(page).getByRole("link").first());
}

async function main() {
  ensureWebBuilt();
  mkdirSync(OUT, { recursive: true });
  // A model address makes the Settings page show its form; the screenshots never ask it
  // anything, because no customer writes after automatic answers are switched on.
  const env = await startInbox({ AI_BASE_URL: "http://127.0.0.1:11434/v1", AI_MODEL: "llama3.2" });
  const browser = await launchBrowser();
  try {
    const baseUrl = env.server.baseUrl;
    const canvasPage = await openPage(browser, baseUrl);
    const photo = Buffer.from(String(await canvasPage.evaluate(DRAW_PHOTO)), "base64");
    await canvasPage.context().close();
    await seed(baseUrl, env, photo);

    const signInPage = await openPage(browser, baseUrl, { width: 1280, height: 800 });
    await signInPage.goto("/");
    await visible(signInPage.getByRole("button", { name: "Sign in", exact: true }));
    await signInPage.screenshot({ path: join(OUT, "sign-in.png") });
    await signInPage.context().close();

    const desktop = await openPage(browser, baseUrl, { width: 1280, height: 800 });
    await signIn(desktop);
    await conversationList(desktop)
      .getByRole("link", { name: /Sofia Martins/ })
      .click();
    await visible(messageLog(desktop).getByText("This is the label on my receipt."));
    await visible(messageLog(desktop).getByRole("link", { name: /return-label\.pdf/ }));
    await visible(messageLog(desktop).getByText("Sent").first());
    // A photo waiting in the composer with its caption, as the agent is about to send it.
    const chooser = desktop.waitForEvent("filechooser");
    await desktop.getByRole("button", { name: "Attach file", exact: true }).click();
    await (await chooser).setFiles({
      name: "lamp-packed.png",
      mimeType: "image/png",
      buffer: photo,
    });
    await desktop
      .getByRole("textbox", { name: "Message", exact: true })
      .fill("And here is how we packed it");
    await desktop.screenshot({ path: join(OUT, "inbox-desktop.png") });
    await desktop.context().close();

    const phone = await openPage(browser, baseUrl, { width: 360, height: 740 });
    await signIn(phone);
    // A narrow screen has little room: leave out the notifications hint, and the hover.
    await phone.getByRole("button", { name: "Not now", exact: true }).click();
    await phone.mouse.move(0, 0);
    await phone.screenshot({ path: join(OUT, "inbox-mobile-list.png") });
    await conversationList(phone)
      .getByRole("link", { name: /Sofia Martins/ })
      .click();
    await visible(messageLog(phone).getByRole("link", { name: /return-label\.pdf/ }));
    await visible(messageLog(phone).getByText("Sent").last());
    await phone.screenshot({ path: join(OUT, "inbox-mobile-chat.png") });
    await phone.context().close();
    const settings = await openPage(browser, baseUrl, { width: 1280, height: 800 });
    await signIn(settings);
    await settings.getByRole("button", { name: "Not now", exact: true }).click();
    await settings.getByRole("link", { name: "Settings", exact: true }).click();
    await settings.getByRole("checkbox", { name: "Automatic answers", exact: true }).check();
    await settings
      .getByRole("textbox", { name: "Instructions", exact: true })
      .fill(
        "We sell lamps and home decor. We ship to Spain, Portugal and France in 2-4 working days.\n" +
          "Returns are free within 30 days. Hand refunds and damaged parcels over to a person.",
      );
    await settings
      .getByRole("combobox", { name: "New conversations", exact: true })
      .selectOption("active");
    await settings.getByRole("button", { name: "Save", exact: true }).click();
    await visible(settings.getByRole("status").filter({ hasText: "Saved" }));
    await settings.mouse.move(0, 0);
    await settings.screenshot({ path: join(OUT, "settings.png") });
    await settings.context().close();
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    await env.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
