/**
 * The console in real Chromium against the key service on the emulator (its own tables), selected
 * by role and accessible name as a screen reader would: sign-in (pasted key, one-time link), create
 * and copy once, the list, disable/enable, regenerate (an API key with grace; a declared key's
 * rotation and its progress), edit, revoke, search by tag; and the security cases. Page scripts
 * are passed as strings: the project's TypeScript has no DOM types.
 */
import { randomUUID } from 'node:crypto';
import type { RotateSecretCommandInput } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { consoleLink } from '../../lambda/cli/commands/console';
import { hashToken } from '../../lambda/console';
import type { RotationStatusAnswer } from '../../lambda/console/rotation-status';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import type { KeyRotationStatus } from '../../lambda/rotate/status-report';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { consoleLinkItemKey, consoleSessionItemKey } from '../../lambda/tables/table-layout';
import { type Harness, startHarness } from '../support/service-harness';
import { launchChromium, newContext, screenshot } from './browser';

const TENANT = 'acme';
const ROTATION_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:keyroll-rotation';

/**
 * The rotation Lambda is not deployed for this harness: its status (a port of the console) and
 * Secrets Manager's RotateSecret answer are stand-ins; DescribeSecret reads a real secret on the emulator.
 */
const rotation = { rotations: [] as RotateSecretCommandInput[], statuses: [] as KeyRotationStatus[] };
function secretsClient(): SecretsManagerClient {
  const client = new SecretsManagerClient({});
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'RotateSecretCommand') {
        const input = args.input as RotateSecretCommandInput;
        rotation.rotations.push(input);
        return { output: { $metadata: {}, ARN: input.SecretId, VersionId: randomUUID() }, response: {} } as never;
      }
      if (context.commandName === 'DescribeSecretCommand') {
        return { output: { $metadata: {}, ARN: (args.input as { SecretId: string }).SecretId, RotationEnabled: true, RotationLambdaARN: ROTATION_FUNCTION, VersionIdsToStages: {} }, response: {} } as never;
      }
      return next(args);
    },
    { step: 'initialize', name: 'rotationStandIns' },
  );
  return client;
}

let harness: Harness;
let staging: Harness;
let browser: Browser;
let owner: { id: string; key: string };
const contexts: BrowserContext[] = [];
const db = createDocumentClient();

beforeAll(async () => {
  harness = await startHarness({
    service: {
      secrets: secretsClient(),
      console: { rotationStatus: async (): Promise<RotationStatusAnswer> => ({ available: true, statuses: rotation.statuses }) },
    },
  });
  // A second instance of the same deployment running as staging, for a staging key manager.
  staging = await startHarness({ environment: 'staging', tables: harness.tables });
  browser = await launchChromium();
  owner = await harness.issue(TENANT, { name: 'owner', permissions: ['*'] });
}, 30_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await staging?.stop();
  await harness?.stop();
});

async function openPage(url = harness.url): Promise<Page> {
  const context = await newContext(browser, url);
  // Each step is quick; a missing element should fail in seconds, not the default 30 s.
  context.setDefaultTimeout(5000);
  contexts.push(context);
  return context.newPage();
}

async function signInWithKey(key = owner.key, url = harness.url): Promise<Page> {
  const page = await openPage(url);
  await page.goto(`${url}/console`);
  await page.getByLabel('Management key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('table', { name: 'API keys' }).waitFor().catch(async (error: unknown) => {
    throw new Error(`${String(error)}\n${(await page.locator('body').innerText()).slice(0, 2000)}`);
  });
  return page;
}

async function createKey(page: Page, input: { name: string; tags?: string; permission?: string }): Promise<{ id: string; key: string }> {
  await page.getByRole('link', { name: 'Create API key' }).click();
  await page.getByLabel('Name').fill(input.name);
  await page.getByRole('checkbox', { name: input.permission ?? 'telemetry:write', exact: true }).check();
  if (input.tags) await page.getByLabel(/^Tags/).fill(input.tags);
  await page.getByRole('button', { name: 'Create API key' }).click();
  const dialog = page.getByRole('dialog', { name: /Your new API key/ });
  await dialog.waitFor();
  const key = (await dialog.locator('code').textContent()) ?? '';
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.waitForURL(/\/console\/keys\/key_/);
  return { id: /keys\/(key_[0-9A-Za-z]{20})/.exec(page.url())![1], key };
}

const statusOf = (page: Page) => page.getByRole('heading', { level: 1 }).locator('.badge');
const rowOf = (page: Page, name: string) => page.getByRole('table', { name: 'API keys' }).getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });

describe('sign-in', () => {
  test('with a pasted keys:manage key; sign out ends the session', async () => {
    const page = await signInWithKey();
    await expectText(page, 'signed in as owner');
    const cookie = (await page.context().cookies()).find((entry) => entry.name === 'keyroll-console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    // The key was sent once, in the sign-in form; the browser keeps only the session cookie.
    expect(cookie.value).not.toContain(owner.key);
    const storage = await page.evaluate<string>('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })');
    expect(storage).not.toMatch(KEY_PATTERN_GLOBAL);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectText(page, 'You are signed out.');
    await page.goto(`${harness.url}/console`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  test('a key without keys:manage is refused', async () => {
    const reader = await harness.issue(TENANT, { name: 'reader', permissions: ['telemetry:read'] });
    const page = await openPage();
    await page.goto(`${harness.url}/console/sign-in`);
    await page.getByLabel('Management key').fill(reader.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page, 'does not hold keys:manage');
  });

  test('with a one-time link from `keyroll console`: works once', async () => {
    const link = await withTables(() => consoleLink({ tenant: TENANT, url: harness.url }, {}));
    expect(link.freshKey).toBe(true);
    const page = await openPage();
    await page.goto(link.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('table', { name: 'API keys' }).waitFor();
    await expectText(page, 'console sign-in (keyroll console)');

    const again = await openPage();
    await again.goto(link.url);
    await again.getByRole('button', { name: 'Sign in' }).click();
    await expectText(again, 'already used or has expired');
  });

  test('a link for a given management key signs in as that key; past 10 minutes it no longer works', async () => {
    const manager = await harness.issue(TENANT, { name: 'link manager', permissions: ['keys:manage', 'telemetry:write'] });
    const link = await withTables(() => consoleLink({ tenant: TENANT, url: harness.url }, { KEYROLL_API_KEY: manager.key }));
    expect(link).toMatchObject({ keyId: manager.id, freshKey: false });
    const page = await openPage();
    await page.goto(link.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page, 'signed in as link manager');

    const late = await withTables(() => consoleLink({ tenant: TENANT, url: harness.url }, { KEYROLL_API_KEY: manager.key }));
    const token = new URL(late.url).searchParams.get('token')!;
    await db.send(
      new UpdateCommand({
        TableName: harness.tables.keys,
        Key: consoleLinkItemKey(hashToken(token)),
        UpdateExpression: 'SET expiresAt = :then',
        ExpressionAttributeValues: { ':then': Date.now() - 1000 },
      }),
    );
    const tooLate = await openPage();
    await tooLate.goto(late.url);
    await tooLate.getByRole('button', { name: 'Sign in' }).click();
    await expectText(tooLate, 'already used or has expired');
  });
});

describe('keys', () => {
  let page: Page;
  let created: { id: string; key: string };
  beforeAll(async () => {
    page = await signInWithKey();
  });

  test('create, then Copy: the clipboard holds the key, and it is nowhere after the reveal closes', async () => {
    await page.getByRole('link', { name: 'Create API key' }).click();
    // The owner manages every environment; permissions are the tenant's known ones.
    expect(await page.getByLabel('Environment').locator('option').allTextContents()).toEqual(['production', 'staging', 'development']);
    await page.getByLabel('Name').fill('sensor fleet');
    await page.getByRole('checkbox', { name: 'telemetry:write', exact: true }).check();
    await page.getByLabel(/^Tags/).fill('fleet-7, eu');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your new API key: sensor fleet' });
    await dialog.waitFor();
    await dialog.getByText('will not be shown again').waitFor();
    const shown = (await dialog.locator('code').textContent()) ?? '';
    expect(shown).toMatch(/^kr_live_/);
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await dialog.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(shown);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.waitForURL(/\/console\/keys\/key_/);
    created = { id: /keys\/(key_[0-9A-Za-z]{20})/.exec(page.url())![1], key: shown };
    expect(await page.content()).not.toContain(shown);
    expect(await page.evaluate<string>('document.documentElement.outerHTML')).not.toMatch(KEY_PATTERN_GLOBAL);
    // It is a real key.
    expect((await harness.call('GET', '/v1/whoami', { key: shown })).status).toBe(200);
  });

  test('the list shows it Active, with its columns', async () => {
    await page.goto(`${harness.url}/console`);
    const row = rowOf(page, 'sensor fleet');
    await expect(row.getByRole('cell').allTextContents()).resolves.toEqual([
      'production',
      'Active',
      'telemetry:write',
      '6,000 / min',
      expect.any(String),
      expect.any(String),
      expect.any(String),
      'fleet-7eu',
      'Never',
    ]);
    expect(await page.content()).not.toContain(created.key);
  });

  test('disable, then enable', async () => {
    await page.goto(`${harness.url}/console/keys/${created.id}`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await expectText(page, 'Key disabled');
    expect(await statusOf(page).textContent()).toBe('Inactive');
    expect((await harness.call('GET', '/v1/whoami', { key: created.key })).body.error.code).toBe('KEY_DISABLED');
    await page.getByRole('button', { name: 'Enable' }).click();
    await expectText(page, 'Key enabled.');
    expect(await statusOf(page).textContent()).toBe('Active');
    await page.goto(`${harness.url}/console?status=active`);
    await rowOf(page, 'sensor fleet').waitFor();
  });

  test('regenerate an API key: a grace period first, then the new key once; the old one stays in grace', async () => {
    await page.goto(`${harness.url}/console/keys/${created.id}`);
    await page.getByRole('link', { name: 'Regenerate' }).click();
    await page.getByRole('radio', { name: '24 hours' }).check();
    await page.getByRole('button', { name: 'Regenerate' }).click();
    const dialog = page.getByRole('dialog', { name: 'The new key for sensor fleet' });
    await dialog.waitFor();
    const fresh = (await dialog.locator('code').textContent()) ?? '';
    expect(fresh).toMatch(/^kr_live_/);
    expect(fresh).not.toBe(created.key);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expectText(page, 'Key regenerated.');
    const credentials = page.getByRole('table', { name: 'Credentials' });
    await expect(credentials.getByRole('row').allTextContents()).resolves.toEqual([expect.any(String), expect.stringContaining('Current'), expect.stringContaining('In grace')]);
    expect(await page.content()).not.toContain(fresh);
    // Old and new both work during the grace.
    expect((await harness.call('GET', '/v1/whoami', { key: created.key })).status).toBe(200);
    expect((await harness.call('GET', '/v1/whoami', { key: fresh })).status).toBe(200);
  });

  test('key detail: configuration, credentials, usage chart, audit entries; screenshots', async () => {
    for (let i = 0; i < 5; i++) await harness.call('GET', '/v1/whoami', { key: created.key });
    await harness.call('GET', '/v1/telemetry', { key: created.key });
    await harness.server.service.deps.usage.flush();
    await page.goto(`${harness.url}/console/keys/${created.id}`);
    await page.getByRole('heading', { name: 'Configuration' }).waitFor();
    await page.getByRole('img', { name: /Requests per minute, last hour: [1-9]\d* requests/ }).waitFor();
    const audit = page.getByRole('table', { name: 'Audit log' });
    await audit.getByRole('cell', { name: 'create' }).waitFor();
    await audit.getByRole('cell', { name: 'regenerate' }).waitFor();
    await screenshot(page, 'console-key-detail');
    for (const name of ['billing export', 'eu gateway', 'staging smoke tests']) await harness.issue(TENANT, { name, permissions: ['telemetry:write'], tags: ['eu'] });
    await page.goto(`${harness.url}/console`);
    await screenshot(page, 'console-list');
  });

  test('search by tag', async () => {
    await createKey(page, { name: 'ingest west', tags: 'fleet-9' });
    await page.goto(`${harness.url}/console`);
    await page.getByRole('searchbox', { name: 'Search by name or tag' }).fill('fleet-9');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/q=fleet-9/);
    const names = await page.getByRole('table', { name: 'API keys' }).getByRole('rowheader').getByRole('link').allTextContents();
    expect(names).toEqual(['ingest west']);
  });

  test('edit: name, rate limit and tags go through PATCH, and the page shows them', async () => {
    const key = await createKey(page, { name: 'edit me', tags: 'a' });
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Name').fill('edited');
    await page.getByLabel('Requests').fill('120');
    await page.getByLabel(/^Tags/).fill('a, b');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expectText(page, 'Changes saved.');
    expect(await harness.manager.get(TENANT, key.id)).toMatchObject({ name: 'edited', rateLimit: { limit: 120, windowSeconds: 60 }, tags: ['a', 'b'] });
  });

  test('revoke: the confirmation names the key', async () => {
    await page.goto(`${harness.url}/console/keys/${created.id}`);
    await page.getByRole('link', { name: 'Revoke' }).click();
    await page.getByRole('heading', { name: 'Revoke “sensor fleet”?' }).waitFor();
    await page.getByRole('button', { name: 'Revoke sensor fleet' }).click();
    await expectText(page, 'Key revoked.');
    expect(await statusOf(page).textContent()).toBe('Revoked');
    expect((await harness.call('GET', '/v1/whoami', { key: created.key })).status).toBe(401);
  });

  test('a declared key: configuration read-only; Regenerate starts a rotation and shows its progress', async () => {
    const declared = { name: 'ingest', secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:keyroll/${TENANT}/ingest` };
    const { record } = await harness.manager.create(TENANT, { name: 'ingest (declared)', environment: 'production', permissions: ['telemetry:write'] }, undefined, { declared });
    await page.goto(`${harness.url}/console/keys/${record.id}/edit`);
    await expectText(page, 'lives in stacks/keys.yaml');
    expect(await page.getByRole('textbox').count()).toBe(0);
    await page.goto(`${harness.url}/console/keys/${record.id}`);
    await page.getByRole('link', { name: 'Regenerate' }).click();
    await page.getByRole('button', { name: 'Start rotation' }).click();
    await expectText(page, 'Rotation started');
    expect(rotation.rotations.map((sent) => sent.SecretId)).toEqual([declared.secretArn]);
    // The rotation moves on; the page follows it without a reload.
    rotation.statuses = [{ tenant: TENANT, name: 'ingest', keyId: record.id, phase: 'rotating', rotationEnabled: true }];
    await page.getByText('Rotating').waitFor({ timeout: 6000 });
    rotation.statuses = [{ tenant: TENANT, name: 'ingest', keyId: record.id, phase: 'idle', rotationEnabled: true, lastRotatedAt: new Date().toISOString(), nextDueAt: new Date(Date.now() + 30 * 86_400_000).toISOString() }];
    await page.getByText('Idle').waitFor({ timeout: 6000 });
  });
});

describe('security', () => {
  test("another tenant's key id in the URL shows nothing of it", async () => {
    const foreign = await harness.issue('globex', { name: 'globex secret project', permissions: ['telemetry:write'] });
    const page = await signInWithKey();
    for (const suffix of ['', '/edit', '/revoke', '/regenerate']) {
      const response = await page.goto(`${harness.url}/console/keys/${foreign.id}${suffix}`);
      expect(response?.status()).toBe(404);
      expect(await page.content()).not.toContain('globex secret project');
    }
    const revoke = await page.request.post(`${harness.url}/console/keys/${foreign.id}/revoke`, { form: { _csrf: await csrfToken(page) }, headers: { origin: harness.url } });
    expect(revoke.status()).toBe(404);
    expect((await harness.call('GET', '/v1/whoami', { key: foreign.key })).status).toBe(200);
  });

  test('a state change without the CSRF token, or from another origin, is refused', async () => {
    const target = await harness.issue(TENANT, { name: 'csrf target', permissions: ['telemetry:write'] });
    const page = await signInWithKey();
    const url = `${harness.url}/console/keys/${target.id}/enabled`;
    const noToken = await page.request.post(url, { form: { enabled: 'false' }, headers: { origin: harness.url } });
    expect(noToken.status()).toBe(403);
    const wrongToken = await page.request.post(url, { form: { enabled: 'false', _csrf: 'x'.repeat(43) }, headers: { origin: harness.url } });
    expect(wrongToken.status()).toBe(403);
    const otherOrigin = await page.request.post(url, { form: { enabled: 'false', _csrf: await csrfToken(page) }, headers: { origin: 'https://evil.example' } });
    expect(otherOrigin.status()).toBe(403);
    expect((await harness.manager.get(TENANT, target.id)).enabled).toBe(true);
    // The same request with the token and the console's own Origin goes through.
    const allowed = await page.request.post(url, { form: { enabled: 'false', _csrf: await csrfToken(page) }, headers: { origin: harness.url }, maxRedirects: 0 });
    expect(allowed.status()).toBe(303);
    expect((await harness.manager.get(TENANT, target.id)).enabled).toBe(false);
  });

  test('an idle session has expired: the next request asks to sign in again', async () => {
    const page = await signInWithKey();
    const cookie = (await page.context().cookies()).find((entry) => entry.name === 'keyroll-console')!;
    // As if the last request were 31 minutes ago (the idle timeout is 30).
    await db.send(
      new UpdateCommand({
        TableName: harness.tables.keys,
        Key: consoleSessionItemKey(hashToken(cookie.value)),
        UpdateExpression: 'SET lastSeenAt = :then',
        ExpressionAttributeValues: { ':then': Date.now() - 31 * 60_000 },
      }),
    );
    const response = await page.goto(`${harness.url}/console`);
    expect(response?.status()).toBe(401);
    await expectText(page, 'Your session ended');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  test('revoking the management key ends its console sessions', async () => {
    const manager = await harness.issue(TENANT, { name: 'short-lived manager', permissions: ['keys:manage', 'telemetry:write'] });
    const page = await signInWithKey(manager.key);
    await harness.manager.revoke(TENANT, manager.id);
    const response = await page.goto(`${harness.url}/console`);
    expect(response?.status()).toBe(401);
    await expectText(page, 'your management key is revoked');
  });

  test("an environment above the caller's is neither offered nor accepted", async () => {
    const manager = await staging.issue(TENANT, { name: 'staging manager', environment: 'staging', permissions: ['keys:manage', 'telemetry:write'] });
    const page = await signInWithKey(manager.key, staging.url);
    await page.getByRole('link', { name: 'Create API key' }).click();
    const environment = page.getByLabel('Environment');
    expect(await environment.locator('option').allTextContents()).toEqual(['staging', 'development']);
    // Forged: a production option added to the form; the API's ladder refuses it.
    await page.evaluate("document.getElementById('environment').add(new Option('production', 'production', true, true))");
    await page.getByLabel('Name').fill('escalated');
    await page.getByRole('checkbox', { name: 'telemetry:write', exact: true }).check();
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByRole('alert').filter({ hasText: 'FORBIDDEN' }).waitFor();
    await expectText(page, 'may only issue staging and development keys');
    expect((await staging.manager.list(TENANT)).map((key) => key.name)).not.toContain('escalated');
  });

  test('pages are no-store, with a strict CSP and no inline script', async () => {
    const page = await signInWithKey();
    const response = await page.goto(`${harness.url}/console`);
    const headers = response!.headers();
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('[style]').count()).toBe(0);
  });
});

async function expectText(page: Page, text: string): Promise<void> {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 5000 });
}

async function csrfToken(page: Page): Promise<string> {
  await page.goto(`${harness.url}/console`);
  return (await page.locator('input[name=_csrf]').first().getAttribute('value')) ?? '';
}

/** `keyroll console` finds the keys table through KEYROLL_KEYS_TABLE, as on a deployment. */
async function withTables<T>(run: () => Promise<T>): Promise<T> {
  const before = process.env.KEYROLL_KEYS_TABLE;
  process.env.KEYROLL_KEYS_TABLE = harness.tables.keys;
  try {
    return await run();
  } finally {
    if (before === undefined) delete process.env.KEYROLL_KEYS_TABLE;
    else process.env.KEYROLL_KEYS_TABLE = before;
  }
}
