/** The persistence port for keys: what the key manager and verifier need, nothing more. */
import type { ApiKeyRecord } from '../keys/key-record';
import type { StatusCounts } from '../usage/usage-series';

export interface UsageDelta {
  /**
   * Unique per delta, and kept when the delta is re-sent: the store applies a delta once per id, so
   * a write that landed but whose answer was lost is not counted again when it is retried.
   */
  readonly id: string;
  readonly tenant: string;
  readonly keyId: string;
  /** The sum of `minutes`' requests: added to the key record's requestCount. */
  readonly requests: number;
  /** The sum of `minutes`' errors: added to the key record's errorCount. */
  readonly errors: number;
  /**
   * The same requests per minute they were made in, oldest first: added to the key's usage series
   * (minute and hour buckets) in the same write, so series and totals agree. At most
   * MAX_MINUTES_PER_DELTA, which keeps the write within one DynamoDB transaction.
   */
  readonly minutes: readonly UsageMinute[];
  /** ISO-8601 of the latest use in this batch. */
  readonly lastUsedAt: string;
  /** The latest use of each credential of the key in this batch; absent when none was told apart. */
  readonly credentials?: readonly CredentialUse[];
}

/**
 * The most minutes one delta carries. A delta is written as one DynamoDB transaction (at most 100
 * items): its marker, the key record, and one item per minute and per hour it touches, so
 * 2 + 48 + 48 = 98 even when no two minutes share an hour (an instance that could not flush for long).
 */
export const MAX_MINUTES_PER_DELTA = 48;

export interface UsageMinute {
  /** The minute's start, ISO-8601 (`2025-01-31T12:34:00.000Z`). */
  readonly at: string;
  readonly requests: number;
  readonly errors: number;
  readonly byStatus: Readonly<StatusCounts>;
}

export interface CredentialUse {
  readonly credentialHash: string;
  /** ISO-8601. */
  readonly lastUsedAt: string;
}

export type SaveResult = 'saved' | 'conflict';

/** One page of a tenant's keys, in key-id order. */
export interface KeyPage {
  readonly records: ApiKeyRecord[];
  /** The last key id the store looked at, when more may follow: the next page starts after it. */
  readonly lastEvaluatedId?: string;
}

export interface KeyStore {
  /** Stores a new key and indexes its credential hashes. Fails if the id or a hash already exists. */
  insertKey(record: ApiKeyRecord): Promise<void>;
  getKey(tenant: string, id: string): Promise<ApiKeyRecord | undefined>;
  listKeys(tenant: string): Promise<ApiKeyRecord[]>;
  /** Up to `limit` keys after key id `afterId` (from the start without it). */
  listKeyPage(tenant: string, page: { readonly limit: number; readonly afterId?: string }): Promise<KeyPage>;
  /** The key a credential hash belongs to (current, pending or in grace), or undefined. */
  findKeyBySecretHash(credentialHash: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Writes `next` over `previous` if nobody changed the key in between (same version) and it is
   * not revoked; otherwise returns 'conflict' and writes nothing. Usage counters are left alone.
   */
  saveKeyChanges(previous: ApiKeyRecord, next: ApiKeyRecord): Promise<SaveResult>;
  /**
   * Adds batched usage, each delta at most once per id however often it is sent; lastUsedAt (the
   * key's and each credential's) only ever moves forward. Resolves with the deltas whose write failed or was aborted (empty when all
   * landed): they may or may not have been applied, so they are re-sent unchanged, with their id.
   */
  recordUsage(deltas: readonly UsageDelta[], options?: { readonly abortSignal?: AbortSignal }): Promise<UsageDelta[]>;
  /**
   * Per credential hash, its last recorded use (ISO-8601), read consistently, at most one read per
   * hash; hashes never used (or no longer indexed) are absent.
   */
  credentialLastUsed(hashes: readonly string[]): Promise<Map<string, string>>;
}
