import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";

// Browser tests drive Debian's Chromium (`apt-get install -y chromium`). Without it a suite
// prints one `skipped:` line and declares no tests, unless REQUIRE_SERVICES=1 (CI), where the
// missing browser is a failure.

export const CHROMIUM_PATH = "/usr/bin/chromium";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether the browser suites run here; prints the skip line when they do not. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.REQUIRE_SERVICES === "1") {
    throw new Error(`chromium not found at ${CHROMIUM_PATH} (REQUIRE_SERVICES=1)`);
  }
  console.log(`skipped: chromium not found at ${CHROMIUM_PATH}`);
  return false;
}

/** `npm test` builds the app first; a single file run on a clean checkout builds it here. */
export function ensureWebBuilt(): void {
  if (existsSync(join(ROOT, "dist", "web", "index.html"))) return;
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "web", "--logLevel", "warn"],
    { cwd: ROOT, stdio: "inherit" },
  );
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** A fresh context (its own localStorage) and page at `width` x `height`. */
export async function openPage(
  browser: Browser,
  baseUrl: string,
  viewport = { width: 1280, height: 800 },
  storageState?: BrowserContextOptions["storageState"],
): Promise<Page> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport, storageState });
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  pageErrors.set(page, errors);
  return page;
}

const pageErrors = new WeakMap<Page, string[]>();

/** Script errors and console errors the page reported (CSP violations show up here). */
export function errorsOf(page: Page): string[] {
  return pageErrors.get(page) ?? [];
}
