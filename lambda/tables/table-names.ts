/** Where keyroll's DynamoDB tables are, read once from the environment. */

export interface TableNames {
  /** Key records and the secret-hash index that points at them. */
  readonly keys: string;
  /** Leased rate-limit quota per key and window slice. */
  readonly rateLimits: string;
  /** Telemetry readings accepted by `POST /v1/telemetry`. */
  readonly telemetry: string;
}

/**
 * @default keyroll-keys, keyroll-rate-limits, keyroll-telemetry; override with
 * KEYROLL_KEYS_TABLE, KEYROLL_RATE_LIMITS_TABLE and KEYROLL_TELEMETRY_TABLE.
 */
export function tableNamesFromEnv(env: NodeJS.ProcessEnv = process.env): TableNames {
  return {
    keys: env.KEYROLL_KEYS_TABLE || 'keyroll-keys',
    rateLimits: env.KEYROLL_RATE_LIMITS_TABLE || 'keyroll-rate-limits',
    telemetry: env.KEYROLL_TELEMETRY_TABLE || 'keyroll-telemetry',
  };
}

/** Every table has the same string `pk`/`sk` key schema; the stacks declare the same shape. */
export const TABLE_KEY_SCHEMA = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'ttl' } as const;

/** The telemetry table's index of a whole tenant's readings, newest last (`GET /v1/telemetry`). */
export const TELEMETRY_TENANT_INDEX = { name: 'byTenant', partitionKey: 'tenant', sortKey: 'sk' } as const;
