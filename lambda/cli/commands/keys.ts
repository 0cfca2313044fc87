/**
 * `keyroll keys list|create|get|update|regenerate|revoke|disable|enable`: key management over the
 * HTTP API, with a management key from KEYROLL_API_KEY or --key-file. A created or regenerated key
 * goes to stdout alone (pipe it into a secret store); everything else about it goes to stderr.
 */
import { type Command, Option } from 'commander';
import { ApiClient } from '../api-client';
import { CliError } from '../cli-error';
import { inFlagTerms, parseList, parseRateLimit, parseWholeNumber } from '../keys/key-options';
import { keyDetails, keyTable, type KeyView } from '../keys/key-table';
import { managementKey } from '../management-key';
import { rotationStartedByRegenerate, type StartedRotationView } from '../rotation/rotation-text';
import { serviceUrlFromEnv } from '../service-url';

interface ConnectionOptions {
  readonly url?: string;
  readonly keyFile?: string;
  readonly tenant?: string;
  readonly json?: boolean;
}

interface Session {
  readonly api: ApiClient;
  readonly tenant: string;
  readonly json: boolean;
}

type IssuedKeyView = KeyView & { readonly key: string };

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

export function registerKeysCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('Manage API keys over the HTTP API (management key from KEYROLL_API_KEY or --key-file).')
    .option('--url <url>', 'the key service (default: KEYROLL_URL, or http://127.0.0.1:<PORT or 8787>)')
    .option('--key-file <path>', 'file holding the management key (default: KEYROLL_API_KEY)')
    .option('--tenant <tenant>', "tenant whose keys to manage (default: the management key's own)")
    .option('--json', 'print JSON instead of a table');

  keys
    .command('list')
    .description("List the tenant's keys you may see.")
    .option('--limit <n>', 'at most this many keys (default: all)', parseWholeNumber)
    .action(run(async (session, options: { limit?: number }) => {
      const listed: KeyView[] = [];
      let cursor: string | null = null;
      do {
        const pageSize: number = Math.min(options.limit ? options.limit - listed.length : 1000, 1000);
        const page: { keys: KeyView[]; nextCursor: string | null } = await session.api.request(
          'GET',
          `${tenantPath(session)}?limit=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        listed.push(...page.keys);
        cursor = page.nextCursor;
      } while (cursor && (!options.limit || listed.length < options.limit));
      out(session.json ? `${JSON.stringify(listed, null, 2)}\n` : listed.length > 0 ? keyTable(listed) : '');
      if (!session.json && listed.length === 0) err(`No keys in tenant ${session.tenant} that this key may see.\n`);
    }));

  keys
    .command('create')
    .description('Create a key; prints the key alone on stdout (shown once).')
    .requiredOption('--name <name>', 'name of the key')
    .requiredOption('--permissions <list>', 'comma-separated, e.g. telemetry:write,customers:read', parseList)
    .addOption(new Option('--environment <environment>', 'environment of the key').choices(['production', 'staging', 'development']).default('production'))
    .option('--rate-limit <requests/seconds>', 'e.g. 6000/60 (default: 6000/60)', parseRateLimit)
    .option('--expires-at <iso>', 'expiry, e.g. 2027-01-31T00:00:00Z (default: never)')
    .option('--tags <list>', 'comma-separated tags', parseList)
    .option('--customer-id <id>', 'customer the key belongs to')
    .action(run(async (session, options: CreateOptions) => {
      const created = await session.api.request<IssuedKeyView>('POST', tenantPath(session), {
        name: options.name,
        environment: options.environment,
        permissions: options.permissions,
        ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
        ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
        ...(options.tags ? { tags: options.tags } : {}),
        ...(options.customerId ? { customerId: options.customerId } : {}),
      });
      printIssued(session, created, `Created key ${created.id} (${created.name}, ${created.environment}, ${created.permissions.join(',')}).`);
    }));

  keys
    .command('get <id>')
    .description('Show one key.')
    .action(run(async (session, id: string) => printKey(session, await session.api.request('GET', keyPath(session, id)))));

  keys
    .command('update <id>')
    .description('Change a key: only the fields given change.')
    .option('--name <name>', 'new name')
    .option('--permissions <list>', 'comma-separated; replaces the current ones', parseList)
    .option('--rate-limit <requests/seconds>', 'e.g. 100/1', parseRateLimit)
    .option('--expires-at <iso>', 'new expiry')
    .option('--no-expiry', 'remove the expiry')
    .option('--tags <list>', 'comma-separated; replaces the current ones', parseList)
    .action(run(async (session, id: string, options: UpdateOptions) => {
      const body = {
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.permissions ? { permissions: options.permissions } : {}),
        ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
        ...(options.expiresAt !== undefined ? { expiresAt: options.expiresAt } : options.expiry === false ? { expiresAt: null } : {}),
        ...(options.tags ? { tags: options.tags } : {}),
      };
      if (Object.keys(body).length === 0) {
        throw new CliError('NOTHING_TO_CHANGE', 'Give at least one of --name, --permissions, --rate-limit, --expires-at, --no-expiry, --tags.');
      }
      printKey(session, await session.api.request('PATCH', keyPath(session, id), body));
    }));

  keys
    .command('regenerate <id>')
    .description('Give a key a new secret (same id); prints the new key alone on stdout. A declared key (keys.yaml) starts a rotation instead, and prints no key.')
    .option('--grace-seconds <n>', 'keep the old credential working this long (default: 0, it stops now)', parseWholeNumber)
    .action(run(async (session, id: string, options: { graceSeconds?: number }) => {
      const body = options.graceSeconds !== undefined ? { graceSeconds: options.graceSeconds } : {};
      const regenerated = await session.api.request<IssuedKeyView | { rotation: StartedRotationView }>('POST', `${keyPath(session, id)}/regenerate`, body);
      // A declared key (202): its consumers get the new credential from the rotation, not from us.
      if (startedRotation(regenerated)) {
        if (session.json) out(`${JSON.stringify(regenerated, null, 2)}\n`);
        err(`${rotationStartedByRegenerate(regenerated.rotation, session.tenant)}\n`);
        return;
      }
      const grace = regenerated.previousSecretValidUntil ? `the old credential works until ${String(regenerated.previousSecretValidUntil)}` : 'the old credential stopped working';
      printIssued(session, regenerated, `Regenerated key ${regenerated.id}: ${grace}.`);
    }));

  keys
    .command('revoke <id>')
    .description('Revoke a key, permanently.')
    .action(run(async (session, id: string) => printKey(session, await session.api.request('POST', `${keyPath(session, id)}/revoke`))));

  for (const [command, enabled] of [['disable', false], ['enable', true]] as const) {
    keys
      .command(`${command} <id>`)
      .description(enabled ? 'Re-enable a disabled key.' : 'Disable a key until it is enabled again.')
      .action(run(async (session, id: string) => printKey(session, await session.api.request('PATCH', keyPath(session, id), { enabled }))));
  }
}

interface CreateOptions {
  readonly name: string;
  readonly permissions: string[];
  readonly environment: string;
  readonly rateLimit?: { limit: number; windowSeconds: number };
  readonly expiresAt?: string;
  readonly tags?: string[];
  readonly customerId?: string;
}

interface UpdateOptions {
  readonly name?: string;
  readonly permissions?: string[];
  readonly rateLimit?: { limit: number; windowSeconds: number };
  readonly expiresAt?: string;
  /** false with --no-expiry. */
  readonly expiry?: boolean;
  readonly tags?: string[];
}

/**
 * Wraps an action: builds the session from the `keys` options (and the service, for the tenant),
 * and puts the service's field names in the flags' terms when it refuses something.
 */
function run<A extends unknown[]>(action: (session: Session, ...args: A) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const options = command.optsWithGlobals() as ConnectionOptions;
    const api = new ApiClient({ url: options.url ?? serviceUrlFromEnv(), key: managementKey(options) });
    try {
      const tenant = options.tenant ?? (await api.request<{ tenant: string }>('GET', '/v1/whoami')).tenant;
      await action({ api, tenant, json: options.json ?? false }, ...(args.slice(0, -1) as A));
    } catch (error) {
      if (error instanceof CliError) throw new CliError(error.code, inFlagTerms(error.message));
      throw error;
    }
  };
}

/** The 202 of a declared key's regenerate: `{rotation}`, and never a `key`. */
function startedRotation(answer: IssuedKeyView | { rotation: StartedRotationView }): answer is { rotation: StartedRotationView } {
  return typeof (answer as { rotation?: unknown }).rotation === 'object' && !('key' in answer);
}

function tenantPath(session: Session): string {
  return `/v1/tenants/${encodeURIComponent(session.tenant)}/api-keys`;
}

function keyPath(session: Session, id: string): string {
  return `${tenantPath(session)}/${encodeURIComponent(id)}`;
}

function printKey(session: Session, key: KeyView): void {
  out(session.json ? `${JSON.stringify(key, null, 2)}\n` : keyDetails(key));
}

function printIssued(session: Session, issued: IssuedKeyView, summary: string): void {
  if (session.json) {
    out(`${JSON.stringify(issued, null, 2)}\n`);
    return;
  }
  out(`${issued.key}\n`);
  err(`${summary} The key is on stdout and shown once: store it now.\n`);
}
