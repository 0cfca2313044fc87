/** The persistence port for keys: what the key manager and verifier need, nothing more. */
import type { ApiKeyRecord } from '../keys/key-record';

export interface UsageDelta {
  readonly tenant: string;
  readonly keyId: string;
  readonly requests: number;
  readonly errors: number;
  /** ISO-8601 of the latest use in this batch. */
  readonly lastUsedAt: string;
}

export type SaveResult = 'saved' | 'conflict';

export interface KeyStore {
  /** Stores a new key and indexes its secret hash. Fails if the id or hash already exists. */
  insertKey(record: ApiKeyRecord): Promise<void>;
  getKey(tenant: string, id: string): Promise<ApiKeyRecord | undefined>;
  listKeys(tenant: string): Promise<ApiKeyRecord[]>;
  /** The key a secret hash belongs to (current or in grace), or undefined. */
  findKeyBySecretHash(secretHash: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Writes `next` over `previous` if nobody changed the key in between (same version) and it is
   * not revoked; otherwise returns 'conflict' and writes nothing. Usage counters are left alone.
   */
  saveKeyChanges(previous: ApiKeyRecord, next: ApiKeyRecord): Promise<SaveResult>;
  /**
   * Adds batched usage; lastUsedAt only ever moves forward. Resolves with the deltas that could not
   * be written (empty when all were), so a retry re-sends exactly those and counts nothing twice.
   */
  recordUsage(deltas: readonly UsageDelta[]): Promise<UsageDelta[]>;
}
