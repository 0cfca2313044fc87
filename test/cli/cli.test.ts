/** The `keyroll` command as a user runs it: a real child process against the emulator. */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { uniqueTables } from '../support/service-harness';

const BIN = path.join(__dirname, '..', '..', 'lambda', 'cli', 'bin.cjs');
const tables = uniqueTables();
const env = {
  ...process.env,
  KEYROLL_KEYS_TABLE: tables.keys,
  KEYROLL_RATE_LIMITS_TABLE: tables.rateLimits,
  KEYROLL_TELEMETRY_TABLE: tables.telemetry,
  POWERTOOLS_LOG_LEVEL: 'WARN',
};

describe('keyroll bootstrap', () => {
  it('creates the tenant owner key (*) in the store and prints only the key on stdout', async () => {
    const run = spawnSync(process.execPath, [BIN, 'bootstrap', '--tenant', 'cli-tenant'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    const key = run.stdout.trim();
    expect(run.stdout).toBe(`${key}\n`);
    expect(key).toMatch(new RegExp(`^${KEY_PATTERN.source}$`));
    expect(run.stderr).toMatch(/Created owner key key_\w+ for tenant cli-tenant: it holds every permission/);
    expect(run.stderr).not.toContain(key);
    const record = await new DynamoDbKeyStore(createDocumentClient(), tables.keys).findKeyBySecretHash(hashCredential(key));
    expect(record).toMatchObject({ tenant: 'cli-tenant', environment: 'production', permissions: ['*'] });
  });

  it('explains a bad tenant and exits non-zero', () => {
    const run = spawnSync(process.execPath, [BIN, 'bootstrap', '--tenant', 'Not A Tenant'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/`--tenant` must be 1-63 lowercase letters/);
    expect(run.stdout).toBe('');
  });
});

describe('keyroll serve', () => {
  it('serves on PORT and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...env, PORT: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /serving at (http:\/\/\S+)/.exec(stderr);
          if (match) resolve(match[1]);
        });
        child.once('exit', () => reject(new Error(`serve exited early:\n${stderr}`)));
      });
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a bad PORT with the fix', () => {
    const run = spawnSync(process.execPath, [BIN, 'serve'], { env: { ...env, PORT: 'eighty' }, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/PORT is "eighty"; set it to a whole number/);
  });
});
