/**
 * Debian's Chromium driven by playwright-core (no browser download): one browser per test file,
 * a fresh context (cookies, clipboard permission) per sign-in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.KEYROLL_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install it (\`apt-get install -y chromium\`; .ci/run does) or set KEYROLL_CHROMIUM to its path.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A context for `origin` that may read and write the clipboard (the Copy button's test). */
export async function newContext(browser: Browser, origin: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  return context;
}

const SCREENSHOTS = path.join(__dirname, '__screenshots__');
/** Committed for the README, refreshed with UPDATE_CONSOLE_SCREENSHOTS=1. */
const README_SCREENSHOTS = path.join(__dirname, '..', '..', 'lambda', 'console', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.UPDATE_CONSOLE_SCREENSHOTS === '1') {
    fs.mkdirSync(README_SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(README_SCREENSHOTS, `${name}.png`));
  }
  return file;
}
