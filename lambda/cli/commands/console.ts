/**
 * `keyroll console --tenant T`: prints a one-time sign-in link to the console (valid 10 minutes,
 * usable once). Like `keyroll bootstrap`, it writes to the store directly: the link is minted for
 * the management key in KEYROLL_API_KEY or --key-file when one is given (checked: this tenant's,
 * active, holding keys:manage), else for a fresh owner key that expires in 12 hours, named so the
 * key list shows where it came from. The link goes to stdout, notes to stderr.
 */
import type { Command } from 'commander';
import { ConsoleSessions, signInLinkUrl } from '../../console';
import { keyRefusal } from '../../console/session';
import { serviceEnvironmentFromEnv } from '../../deploy-env/service-environment';
import { hashCredential } from '../../keys/credential-hash';
import { tenantSchema } from '../../keys/key-input';
import { ALL_PERMISSIONS } from '../../keys/permissions';
import { KeyManager } from '../../manage/key-manager';
import { createDocumentClient } from '../../store/dynamodb-client';
import { DynamoDbKeyStore } from '../../store/dynamodb-key-store';
import { tableNamesFromEnv } from '../../tables/table-names';
import { parseInput } from '../../validation';
import { CliError } from '../cli-error';
import { ensureTablesIfLocal } from '../local-setup';
import { managementKey } from '../management-key';
import { serviceUrlFromEnv } from '../service-url';

/** How long the fresh owner key behind a link lives: a working day of console use. */
export const CONSOLE_KEY_LIFETIME_MS = 12 * 3600_000;

export interface ConsoleLinkOptions {
  readonly tenant: string;
  readonly keyFile?: string;
  /** @default KEYROLL_URL, else the local `keyroll serve` address */
  readonly url?: string;
}

export interface ConsoleLink {
  readonly url: string;
  readonly keyId: string;
  /** Whether a fresh owner key was made for it. */
  readonly freshKey: boolean;
}

export async function consoleLink(options: ConsoleLinkOptions, env: NodeJS.ProcessEnv = process.env): Promise<ConsoleLink> {
  const tenant = parseInput(tenantSchema, options.tenant, '--tenant');
  const documentClient = createDocumentClient();
  const table = tableNamesFromEnv().keys;
  const store = new DynamoDbKeyStore(documentClient, table);
  const sessions = new ConsoleSessions(documentClient, table);
  const environment = serviceEnvironmentFromEnv();
  const given = options.keyFile || env.KEYROLL_API_KEY ? managementKey({ keyFile: options.keyFile }, env) : undefined;
  let grant: { tenant: string; keyId: string; credentialHash: string };
  if (given) {
    const credentialHash = hashCredential(given);
    const record = await store.findKeyBySecretHash(credentialHash);
    if (!record || record.tenant !== tenant) {
      throw new CliError('INVALID_API_KEY', `The management key is not a key of tenant ${tenant}. Give one of its keys:manage keys, or leave KEYROLL_API_KEY and --key-file unset for a fresh owner key.`);
    }
    const refusal = keyRefusal(record, credentialHash, environment, Date.now());
    if (refusal) throw new CliError('KEY_CANNOT_SIGN_IN', `The management key cannot sign in to the console: ${refusal.replace(/^your /, 'the ')}. Use another keys:manage key.`);
    grant = { tenant, keyId: record.id, credentialHash };
  } else {
    const manager = new KeyManager({ store });
    const { record, key } = await manager.create(tenant, {
      name: 'console sign-in (keyroll console)',
      environment,
      permissions: [ALL_PERMISSIONS],
      expiresAt: new Date(Date.now() + CONSOLE_KEY_LIFETIME_MS).toISOString(),
      tags: ['console'],
    });
    grant = { tenant, keyId: record.id, credentialHash: hashCredential(key) };
  }
  const { token } = await sessions.mintLink(grant);
  return { url: signInLinkUrl(options.url ?? serviceUrlFromEnv(env), token), keyId: grant.keyId, freshKey: !given };
}

export async function consoleCommand(options: ConsoleLinkOptions): Promise<void> {
  await ensureTablesIfLocal((line) => process.stderr.write(`${line}\n`));
  const link = await consoleLink(options);
  process.stderr.write(
    link.freshKey
      ? `Signs in as a new owner key ${link.keyId} (every permission, *; expires in 12 hours). The link works once, within 10 minutes:\n`
      : `Signs in as key ${link.keyId}. The link works once, within 10 minutes:\n`,
  );
  process.stdout.write(`${link.url}\n`);
}

export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description('Print a one-time sign-in link to the API keys console (valid 10 minutes, usable once).')
    .requiredOption('--tenant <tenant>', 'tenant to sign in to')
    .option('--key-file <path>', 'file holding the keys:manage key to sign in as (default: KEYROLL_API_KEY; neither: a fresh owner key expiring in 12 hours)')
    .option('--url <url>', 'the key service (default: KEYROLL_URL, or http://127.0.0.1:<PORT or 8787>)')
    .action(consoleCommand);
}

/** For `keyroll start`: a link for the owner key it just made (its plaintext is only hashed here). */
export async function consoleSignInLink(tenant: string, keyId: string, key: string, serviceUrl: string): Promise<string> {
  const sessions = new ConsoleSessions(createDocumentClient(), tableNamesFromEnv().keys);
  const { token } = await sessions.mintLink({ tenant, keyId, credentialHash: hashCredential(key) });
  return signInLinkUrl(serviceUrl, token);
}
