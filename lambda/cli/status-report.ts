/**
 * What `keyroll status` finds: the key service, the emulator, the stacks Terraform state says are
 * deployed on the current target, and key counts by status. Each part is found independently, so
 * one that is down never hides the others.
 */
import * as path from 'node:path';
import { type DeployedStack, readDeployedStack } from '../deploy-env/deployed-stacks';
import { PROJECT_ROOT, stateDirFromEnv } from '../deploy-env/keyroll-dirs';
import { isLocalEndpoint, localAwsAnswers } from '../deploy-env/local-endpoint';
import { ApiClient } from './api-client';
import { CliError } from './cli-error';
import { type RunInfo, readLiveRunFile, readRunFile } from './run-file';
import { serviceUrlFromEnv } from './service-url';

export interface StatusOptions {
  readonly url?: string;
  /** The management key, when one was given (KEYROLL_API_KEY or --key-file). */
  readonly key?: string;
  readonly tenant?: string;
  /** The app's stacks, in deploy order. */
  readonly stacks: readonly string[];
}

export interface ServiceStatus {
  readonly url: string;
  /** Where the URL came from: `--url`, `KEYROLL_URL`, `keyroll start` (its run file) or the default. */
  readonly from: string;
  readonly reachable: boolean;
  readonly environment?: string;
  /** Why it could not be reached. */
  readonly error?: string;
}

export interface StartStatus {
  readonly pid: number;
  readonly startedAt: string;
  readonly running: boolean;
}

export interface EmulatorStatus {
  readonly endpoint: string;
  readonly from: string;
  readonly reachable: boolean;
}

export interface StacksStatus {
  readonly target: 'emulator' | 'AWS';
  /** Local state folder, relative to the project; absent with S3 state. */
  readonly stateDir?: string;
  /** With KEYROLL_STATE_BUCKET: state is in S3, which status does not read. */
  readonly stateBucket?: string;
  readonly stacks: readonly Omit<DeployedStack, 'stateFile'>[];
}

export type KeysStatus =
  | { readonly tenant: string; readonly total: number; readonly byStatus: Record<string, number> }
  | { readonly error: { readonly code: string; readonly message: string } }
  | { readonly needsKey: string };

export interface StatusReport {
  readonly service: ServiceStatus;
  readonly start?: StartStatus;
  readonly emulator?: EmulatorStatus;
  readonly deployed: StacksStatus;
  readonly keys: KeysStatus;
}

const HOW_TO_COUNT =
  'set KEYROLL_API_KEY, or pass --key-file <path>, to count keys by status: `npm start` prints an owner key, and `npx keyroll bootstrap --tenant <tenant> > owner.key` makes one';

export async function statusReport(options: StatusOptions, env: NodeJS.ProcessEnv = process.env): Promise<StatusReport> {
  const run = readRunFile();
  const live = readLiveRunFile();
  const start = run ? { pid: run.pid, startedAt: run.startedAt, running: live !== undefined } : undefined;
  const emulator = await emulatorStatus(live, env);
  const service = await serviceStatus(options, live, env);
  const deployed = stacksStatus(options.stacks, emulator, env);
  const { keys, environment: keyEnvironment } = options.key ? await keysStatus(service, options.key, options.tenant) : { keys: { needsKey: HOW_TO_COUNT } };
  // The management key's environment is the service's (it would be refused otherwise); without
  // a key, the run file says what `keyroll start` serves as.
  const environment = keyEnvironment ?? (service.reachable && live?.url === service.url ? live.environment : undefined);
  return { service: { ...service, ...(environment ? { environment } : {}) }, ...(start ? { start } : {}), ...(emulator ? { emulator } : {}), deployed, keys };
}

async function serviceStatus(options: StatusOptions, live: RunInfo | undefined, env: NodeJS.ProcessEnv): Promise<ServiceStatus> {
  const [url, from] = options.url
    ? [options.url, '--url']
    : env.KEYROLL_URL
      ? [env.KEYROLL_URL, 'KEYROLL_URL']
      : live?.url && !env.PORT
        ? [live.url, `keyroll start (pid ${live.pid})`]
        : [serviceUrlFromEnv(env), env.PORT ? 'PORT' : 'the default'];
  try {
    const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(3000) });
    await response.body?.cancel();
    return response.ok ? { url, from, reachable: true } : { url, from, reachable: false, error: `GET /healthz answered ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error));
    return { url, from, reachable: false, error: cause };
  }
}

/** The emulator AWS_ENDPOINT_URL names (when loopback), else the one a running `keyroll start` started. */
async function emulatorStatus(live: RunInfo | undefined, env: NodeJS.ProcessEnv): Promise<EmulatorStatus | undefined> {
  const fromEnv = env.AWS_ENDPOINT_URL && isLocalEndpoint(env.AWS_ENDPOINT_URL) ? env.AWS_ENDPOINT_URL : undefined;
  const endpoint = fromEnv ?? (env.AWS_ENDPOINT_URL ? undefined : live?.emulatorEndpoint);
  if (!endpoint) return undefined;
  return { endpoint, from: fromEnv ? 'AWS_ENDPOINT_URL' : `keyroll start (pid ${live!.pid})`, reachable: await localAwsAnswers(endpoint) };
}

function stacksStatus(stacks: readonly string[], emulator: EmulatorStatus | undefined, env: NodeJS.ProcessEnv): StacksStatus {
  const target = emulator ? 'emulator' : 'AWS';
  if (env.KEYROLL_STATE_BUCKET) return { target, stateBucket: env.KEYROLL_STATE_BUCKET, stacks: [] };
  const stateDir = stateDirFromEnv(emulator ? { ...env, AWS_ENDPOINT_URL: emulator.endpoint } : env);
  return {
    target,
    stateDir: path.relative(PROJECT_ROOT, stateDir) || '.',
    stacks: stacks.map((stack) => {
      const { stateFile: _stateFile, ...deployed } = readDeployedStack(stateDir, stack);
      return deployed;
    }),
  };
}

interface KeyPage {
  readonly keys: { readonly status: string }[];
  readonly nextCursor: string | null;
}

async function keysStatus(service: ServiceStatus, key: string, tenantOption: string | undefined): Promise<{ keys: KeysStatus; environment?: string }> {
  if (!service.reachable) return { keys: { error: { code: 'SERVICE_UNREACHABLE', message: `the key service at ${service.url} does not answer` } } };
  const api = new ApiClient({ url: service.url, key });
  try {
    const whoami = await api.request<{ tenant: string; environment: string }>('GET', '/v1/whoami');
    const tenant = tenantOption ?? whoami.tenant;
    const byStatus: Record<string, number> = {};
    let total = 0;
    let cursor: string | null = null;
    do {
      const page: KeyPage = await api.request('GET', `/v1/tenants/${encodeURIComponent(tenant)}/api-keys?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const listed of page.keys) byStatus[listed.status] = (byStatus[listed.status] ?? 0) + 1;
      total += page.keys.length;
      cursor = page.nextCursor;
    } while (cursor);
    return { keys: { tenant, total, byStatus }, environment: whoami.environment };
  } catch (error) {
    if (error instanceof CliError) return { keys: { error: { code: error.code, message: error.message } } };
    throw error;
  }
}
