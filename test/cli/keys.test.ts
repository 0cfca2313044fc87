/** `keyroll keys …` as a user runs it: a child process calling a real service on the emulator. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { type Run, runProcess } from '../support/child-process';
import { type Harness, startHarness } from '../support/service-harness';

const BIN = path.join(__dirname, '..', '..', 'lambda', 'cli', 'bin.cjs');

let harness: Harness;
let owner: string;

beforeAll(async () => {
  harness = await startHarness();
  owner = (await harness.issue('cli', { permissions: ['*'] })).key;
});
afterAll(() => harness.stop());


function keyroll(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runProcess(process.execPath, [BIN, ...args], { env: { ...process.env, KEYROLL_URL: harness.url, KEYROLL_API_KEY: owner, ...env } });
}

describe('keyroll keys', () => {
  it('creates a key and prints it alone on stdout, the rest on stderr', async () => {
    const run = await keyroll(['keys', 'create', '--name', 'fleet', '--permissions', 'telemetry:write', '--rate-limit', '100/10', '--tags', 'a,b']);
    expect(run.status).toBe(0);
    const key = run.stdout.trim();
    expect(run.stdout).toBe(`${key}\n`);
    expect(key).toMatch(new RegExp(`^${KEY_PATTERN.source}$`));
    expect(run.stderr).toMatch(/Created key key_\w+ \(fleet, production, telemetry:write\)/);
    expect(run.stderr).not.toContain(key);
    expect((await harness.call('GET', '/v1/whoami', { key })).body).toMatchObject({ tenant: 'cli', permissions: ['telemetry:write'] });
  });

  it('lists as a table, or as JSON with --json', async () => {
    await keyroll(['keys', 'create', '--name', 'listed', '--permissions', 'telemetry:write']);
    const table = await keyroll(['keys', 'list']);
    expect(table.status).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+ENVIRONMENT\s+STATUS\s+PERMISSIONS/);
    expect(table.stdout).toMatch(/key_\w+\s+listed\s+production\s+active\s+telemetry:write\s+6000\/60s\s+never\s+0/);
    const json = await keyroll(['keys', 'list', '--json']);
    const listed = JSON.parse(json.stdout);
    expect(listed.map((k: { name: string }) => k.name)).toContain('listed');
    expect(json.stdout).not.toMatch(KEY_PATTERN);
  });

  it('gets, updates, disables, enables, regenerates and revokes', async () => {
    const created = JSON.parse((await keyroll(['keys', 'create', '--name', 'life', '--permissions', 'telemetry:write', '--json'])).stdout);
    const id = created.id as string;
    expect((await keyroll(['keys', 'get', id])).stdout).toMatch(/^name:\s+life$/m);
    const updated = await keyroll(['keys', 'update', id, '--name', 'renamed', '--permissions', 'telemetry:write,customers:read', '--json']);
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: 'renamed', permissions: ['telemetry:write', 'customers:read'] });
    expect(JSON.parse((await keyroll(['keys', 'disable', id, '--json'])).stdout).status).toBe('inactive');
    expect((await harness.call('GET', '/v1/whoami', { key: created.key })).body.error.code).toBe('KEY_DISABLED');
    expect(JSON.parse((await keyroll(['keys', 'enable', id, '--json'])).stdout).status).toBe('active');

    const regenerated = await keyroll(['keys', 'regenerate', id, '--grace-seconds', '60']);
    expect(regenerated.status).toBe(0);
    const newKey = regenerated.stdout.trim();
    expect(newKey).toMatch(new RegExp(`^${KEY_PATTERN.source}$`));
    expect(regenerated.stderr).toMatch(/the old credential works until 20/);
    expect((await harness.call('GET', '/v1/whoami', { key: newKey })).status).toBe(200);

    const revoked = await keyroll(['keys', 'revoke', id]);
    expect(revoked.stdout).toMatch(/^status:\s+revoked$/m);
    expect((await harness.call('GET', '/v1/whoami', { key: newKey })).status).toBe(401);
  });

  it('reads the management key from --key-file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-cli-'));
    try {
      const file = path.join(dir, 'owner.key');
      fs.writeFileSync(file, `${owner}\n`, { mode: 0o600 });
      const run = await keyroll(['keys', 'list', '--key-file', file, '--json'], { KEYROLL_API_KEY: '' });
      expect(run.status).toBe(0);
      expect(Array.isArray(JSON.parse(run.stdout))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each<[string, string[], NodeJS.ProcessEnv, RegExp]>([
    ['no management key', ['keys', 'list'], { KEYROLL_API_KEY: '' }, /MISSING_API_KEY: No management key: set KEYROLL_API_KEY, or pass --key-file/],
    ['a refused field, in flag terms', ['keys', 'create', '--name', 'x', '--permissions', 'write everything'], {}, /VALIDATION_ERROR: `--permissions` \(permissions\.0\) must look like `resource:action`/],
    ['an unknown key', ['keys', 'get', 'key_AAAAAAAAAAAAAAAAAAAA'], {}, /NOT_FOUND: No API key `key_AAAAAAAAAAAAAAAAAAAA`/],
    ['an unreachable service', ['keys', 'list'], { KEYROLL_URL: 'http://127.0.0.1:9' }, /SERVICE_UNREACHABLE: Cannot reach the key service at http:\/\/127\.0\.0\.1:9 .*npm start/],
    ['a bad rate limit', ['keys', 'create', '--name', 'x', '--permissions', 'a:b', '--rate-limit', 'fast'], {}, /--rate-limit.*must look like <requests>\/<seconds>/],
  ])('explains %s on stderr and exits non-zero', async (_, args, env, message) => {
    const run = await keyroll(args, env);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
  });
});

describe('keyroll --version', () => {
  it("prints package.json's version", async () => {
    const run = await keyroll(['--version']);
    expect(run.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
  });
});
