import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * What the dashboard's browser tests share: Debian's chromium driven by playwright-core (no browser
 * download), pages that collect console errors, and screenshots that replace the README's copies in
 * docs/images only with ARGUS_UPDATE_SCREENSHOTS=1, so a test run leaves the work tree as it was.
 */
const CHROMIUM = process.env.ARGUS_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const IMAGES =
  process.env.ARGUS_UPDATE_SCREENSHOTS === '1'
    ? join(ROOT, 'docs/images')
    : mkdtempSync(join(tmpdir(), 'argus-screenshots-'));

/** Chromium, after checking it and the built dashboard are there (each failure says how to fix it). */
export const launchBrowser = async (): Promise<Browser> => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run deploy/scripts/setup.sh (it installs Debian's chromium)`);
  if (!existsSync(join(ROOT, 'packages/web/dist/assets/main.js')))
    throw new Error('packages/web is not built: run pnpm build');
  mkdirSync(IMAGES, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM });
};

/** A page whose console errors and uncaught exceptions land in `errors`, for the test to assert. */
export const openPage = async (
  browser: Browser,
  width = 1280,
  height = 860,
): Promise<{ page: Page; errors: string[] }> => {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
};

/** `docs/images/dashboard-<name>.png` (or a temporary copy): a page that cannot be drawn fails. */
export const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(IMAGES, `dashboard-${name}.png`), fullPage: true });
