/**
 * Alerts in the console, in real Chromium against the key service on the emulator: a key whose
 * requests are mostly refused raises a real error-rate alert (through the usage recorder's flush
 * and the service's alert monitor), which its page, the tenant's alerts page and the navigation's
 * badge show; a key with normal traffic shows "No unusual activity". Then the alerts page's type
 * filter, cursor pagination, another tenant's key id, and the page's security headers.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Alert } from '../../lambda/alerts/alert';
import { alertId } from '../../lambda/alerts/alert-rules';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbAlerts } from '../../lambda/store/dynamodb-alerts';
import { type Harness, startHarness } from '../support/service-harness';
import { launchChromium, newContext, screenshot } from './browser';

const TENANT = 'acme';
/** A tenant of its own for the pagination case, so its many alerts are not counted elsewhere. */
const BUSY_TENANT = 'initech';

let harness: Harness;
let browser: Browser;
let owner: { id: string; key: string };
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // Usage is flushed by the tests, so a burst is evaluated whole, not cut by a timer mid-way.
  harness = await startHarness({ service: { autoFlushUsage: false } });
  browser = await launchChromium();
  owner = await harness.issue(TENANT, { name: 'owner', permissions: ['*'] });
}, 30_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await harness?.stop();
});

async function signIn(key = owner.key): Promise<Page> {
  const context = await newContext(browser, harness.url);
  context.setDefaultTimeout(5000);
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${harness.url}/console`);
  await page.getByLabel('Management key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('table', { name: 'API keys' }).waitFor();
  return page;
}

const alertsTable = (page: Page) => page.getByRole('table', { name: 'Alerts' });
const flush = () => harness.server.service.deps.usage.flush();

/** Reloads `url` until `ready` holds: the monitor raises alerts after the flush, not within it. */
async function reloadUntil(page: Page, url: string, ready: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(url);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`Not shown within ${timeoutMs} ms at ${url}:\n${(await page.locator('main').innerText()).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('a real error-rate alert', () => {
  let page: Page;
  let refused: { id: string; key: string };
  let steady: { id: string; key: string };

  beforeAll(async () => {
    refused = await harness.issue(TENANT, { name: 'misconfigured client', permissions: ['telemetry:write'] });
    steady = await harness.issue(TENANT, { name: 'steady client', permissions: ['telemetry:write'] });
    // 25 requests in a minute, 20 of them refused with 403 (the key lacks keys:manage): 80 %,
    // above the default 25 % over at least 20 requests. The steady key's 30 all succeed.
    for (let i = 0; i < 5; i++) expect((await harness.call('GET', '/v1/whoami', { key: refused.key })).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await harness.call('GET', `/v1/tenants/${TENANT}/api-keys`, { key: refused.key })).status).toBe(403);
    for (let i = 0; i < 30; i++) expect((await harness.call('GET', '/v1/whoami', { key: steady.key })).status).toBe(200);
    // Both keys' usage goes out in this one flush, so the monitor evaluates them together.
    await flush();
    page = await signIn();
  }, 30_000);

  test("the key's page lists it under Alerts: time, type in plain words, summary", async () => {
    const url = `${harness.url}/console/keys/${refused.id}`;
    await reloadUntil(page, url, () => alertsTable(page).isVisible());
    await page.getByRole('heading', { name: 'Alerts', level: 2 }).waitFor();
    const rows = alertsTable(page).getByRole('row');
    expect(await rows.count()).toBe(2);
    const [when, type, summary] = await rows.nth(1).getByRole('cell').allTextContents();
    expect(type).toBe('Error rate spike');
    expect(when).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(summary).toContain('80 %');
    expect(summary).toContain('refused');
    await screenshot(page, 'console-key-alerts');
  });

  test('the alerts page names the key and links to it; the navigation counts it', async () => {
    await page.goto(`${harness.url}/console`);
    const nav = page.getByRole('navigation', { name: 'Console' });
    // The badge reads as words, not a bare number.
    await nav.getByRole('link', { name: 'Alerts 1 in the last 24 hours', exact: true }).click();
    await page.waitForURL(/\/console\/alerts$/);
    expect(await page.getByRole('link', { name: /^Alerts/ }).getAttribute('aria-current')).toBe('page');
    const row = alertsTable(page).getByRole('row').filter({ has: page.getByRole('link', { name: 'misconfigured client', exact: true }) });
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells[1]).toBe('Error rate spike');
    expect(cells[2]).toContain('80 %');
    // Only the misconfigured key raised one.
    expect(await alertsTable(page).getByRole('rowheader').allTextContents()).toEqual(['misconfigured client']);
    await screenshot(page, 'console-alerts');
    await row.getByRole('link', { name: 'misconfigured client' }).click();
    await page.waitForURL(new RegExp(`/console/keys/${refused.id}$`));
  });

  test('normal traffic shows "No unusual activity"', async () => {
    // Evaluated in the same flush as the alert above, which has shown: its verdict is in.
    await page.goto(`${harness.url}/console/keys/${steady.id}`);
    const section = page.getByRole('region', { name: 'Alerts' });
    await section.getByText('No unusual activity').waitFor();
    expect(await alertsTable(page).count()).toBe(0);
    await page.goto(`${harness.url}/console/alerts?keyId=${steady.id}`);
    await page.getByText('No alerts match.').waitFor();
  });

  test('filter by type, with the keyboard', async () => {
    await page.goto(`${harness.url}/console/alerts`);
    const type = page.getByRole('combobox', { name: 'Type' });
    await type.focus();
    await type.selectOption({ label: 'New source IP' });
    await page.getByRole('button', { name: 'Apply' }).press('Enter');
    await page.waitForURL(/type=new-source/);
    await page.getByText('No alerts match.').waitFor();
    await page.getByRole('combobox', { name: 'Type' }).selectOption({ label: 'Error rate spike' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/type=error-rate/);
    expect(await alertsTable(page).getByRole('rowheader').allTextContents()).toEqual(['misconfigured client']);
  });
});

describe('the alerts page', () => {
  test('pages with the cursor: Next page, then back to the newest', async () => {
    const busyOwner = await harness.issue(BUSY_TENANT, { name: 'busy owner', permissions: ['*'] });
    const busy = await harness.issue(BUSY_TENANT, { name: 'roaming client', permissions: ['telemetry:write'] });
    // 30 new-source alerts stored as the monitor stores them (more than a page of 25), a minute apart.
    const alerts = new DynamoDbAlerts(createDocumentClient(), harness.tables.keys);
    const now = Date.now();
    for (let i = 0; i < 30; i++) {
      const sourceIp = `198.51.100.${i + 1}`;
      const alert: Alert = {
        id: alertId(BUSY_TENANT, busy.id, { type: 'new-source', identity: `source:${sourceIp}` }),
        at: new Date(now - (30 - i) * 60_000).toISOString(),
        tenant: BUSY_TENANT,
        keyId: busy.id,
        keyName: 'roaming client',
        type: 'new-source',
        summary: `This key was used from ${sourceIp} for the first time.`,
        facts: { sourceIp },
      };
      await alerts.raise(alert, { environment: 'production' });
    }
    const page = await signIn(busyOwner.key);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Alerts 30 in the last 24 hours', exact: true }).click();
    const summaries = () => alertsTable(page).getByRole('row').locator('td:last-child').allTextContents();
    const first = await summaries();
    expect(first).toHaveLength(25);
    // Newest first.
    expect(first[0]).toContain('198.51.100.30');
    expect(await page.getByRole('link', { name: 'Newest' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/cursor=/);
    const second = await summaries();
    expect(second).toHaveLength(5);
    expect(second.at(-1)).toContain('198.51.100.1 ');
    expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Newest' }).click();
    await page.waitForURL(/\/console\/alerts$/);
    expect(await summaries()).toEqual(first);

    // The key's page shows its newest ten, and links to all of them.
    await page.getByRole('link', { name: 'roaming client' }).first().click();
    expect(await summaries()).toEqual(first.slice(0, 10));
    await page.getByRole('link', { name: 'All alerts of roaming client' }).click();
    await page.waitForURL(new RegExp(`/console/alerts\\?keyId=${busy.id}$`));
    await page.getByText('Key roaming client only').waitFor();
    expect(await summaries()).toEqual(first);
  });

  test("another tenant's key id shows nothing of it", async () => {
    const foreign = await harness.issue('globex', { name: 'globex secret project', permissions: ['telemetry:write'] });
    const page = await signIn();
    const response = await page.goto(`${harness.url}/console/alerts?keyId=${foreign.id}`);
    expect(response?.status()).toBe(404);
    expect(await page.content()).not.toContain('globex secret project');
    await page.getByRole('alert').waitFor();
  });

  test('a cursor the API did not return: its error names the field and the fix', async () => {
    const page = await signIn();
    const response = await page.goto(`${harness.url}/console/alerts?cursor=bm90LWEtY3Vyc29y`);
    expect(response?.status()).toBe(400);
    await page.getByRole('alert').filter({ hasText: 'cursor' }).waitFor();
  });

  test('is no-store, with a strict CSP and no inline script or style', async () => {
    const page = await signIn();
    const response = await page.goto(`${harness.url}/console/alerts`);
    const headers = response!.headers();
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['content-security-policy']).toContain("style-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('[style]').count()).toBe(0);
  });
});
