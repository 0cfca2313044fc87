/**
 * Starts the real key service over HTTP against DynamoDB on the emulator, with tables of its own,
 * and gives tests a manager key and small request helpers.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Environment } from '../../lambda/keys/environments';
import type { CreateKeyInput } from '../../lambda/keys/key-input';
import { KeyManager } from '../../lambda/manage/key-manager';
import { startServer, type RunningServer } from '../../lambda/serve/node-server';
import type { ServiceOptions } from '../../lambda/serve/service';
import type { ServiceConfig } from '../../lambda/serve/service-config';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { ensureLocalTables } from '../../lambda/store/local-tables';
import type { TableNames } from '../../lambda/tables/table-names';

export interface HarnessOptions {
  readonly environment?: Environment;
  /** Share tables with another harness (two instances of one deployment). */
  readonly tables?: TableNames;
  readonly service?: Omit<ServiceOptions, 'config'>;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Where IoT rules post to this service (its topic rule destination). @default https://localhost:8787/v1/telemetry */
  readonly telemetryUrl?: string;
  /** Settings beyond the harness's own (e.g. trustedProxyHops, alertThresholds). */
  readonly config?: Partial<ServiceConfig>;
}

export interface Harness {
  readonly url: string;
  readonly server: RunningServer;
  readonly tables: TableNames;
  /** A manager writing straight to the store: for arranging keys without going through the API. */
  readonly manager: KeyManager;
  call(method: string, path: string, options?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
  /** Creates a key in the store and returns its plaintext and id. */
  issue(tenant: string, input: Partial<CreateKeyInput> & { permissions: string[] }): Promise<{ id: string; key: string }>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
  readonly text: string;
}

export function uniqueTables(): TableNames {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  return { keys: `${prefix}-keys`, rateLimits: `${prefix}-rate-limits`, telemetry: `${prefix}-telemetry` };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const tables = options.tables ?? uniqueTables();
  await ensureLocalTables(tables, new DynamoDBClient({}));
  const environment = options.environment ?? 'production';
  const server = await startServer(options.port ?? 0, {
    ...options.service,
    config: { environment, extraKeyHeaders: ['x-tlm-key'], tables, ...(options.telemetryUrl ? { telemetryUrl: options.telemetryUrl } : {}), ...options.config },
  });
  const manager = new KeyManager({ store: new DynamoDbKeyStore(createDocumentClient(), tables.keys) });
  return {
    url: server.url,
    server,
    tables,
    manager,
    call: (method, path, callOptions = {}) => call(server.url, method, path, callOptions),
    issue: async (tenant, input) => {
      const { record, key } = await manager.create(tenant, { name: 'test key', environment, ...input });
      return { id: record.id, key };
    },
    stop: () => server.stop(),
  };
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers['x-api-key'] = options.key;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
