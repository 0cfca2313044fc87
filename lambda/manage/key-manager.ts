/**
 * Key management use cases over a KeyStore: create, list, get, update, regenerate, revoke. Loads a
 * key, applies a pure transition, saves it conditionally, and retries when another writer won.
 */
import { errors } from '../errors';
import { generateKey } from '../keys/key-format';
import type { CreateKeyInput, RegenerateKeyInput, UpdateKeyInput } from '../keys/key-input';
import type { ApiKeyRecord } from '../keys/key-record';
import { applyUpdate, createRecord, newKeyId, regenerateSecret, revoke } from '../keys/key-transitions';
import type { KeyStore } from '../store/key-store';

export interface KeyManagerOptions {
  readonly store: KeyStore;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** Told after a key changed, so this instance's verifier cache drops it at once. */
  readonly onKeyChanged?: (keyId: string, record: ApiKeyRecord) => void;
}

/** A key together with its plaintext: returned exactly once, by create and regenerate. */
export interface IssuedKey {
  readonly record: ApiKeyRecord;
  readonly key: string;
}

/** Re-reads and re-applies a change this many times when concurrent writers keep winning. */
const MAX_ATTEMPTS = 5;

export class KeyManager {
  private readonly clock: () => Date;

  constructor(private readonly options: KeyManagerOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** @param id a pre-generated id (see `newKeyId`), for callers that must record it before issuing. */
  async create(tenant: string, input: CreateKeyInput, id: string = newKeyId()): Promise<IssuedKey> {
    const key = generateKey(input.environment);
    const record = createRecord(tenant, input, key, this.clock(), id);
    await this.options.store.insertKey(record);
    this.options.onKeyChanged?.(record.id, record);
    return { record, key };
  }

  list(tenant: string): Promise<ApiKeyRecord[]> {
    return this.options.store.listKeys(tenant);
  }

  async get(tenant: string, id: string): Promise<ApiKeyRecord> {
    const record = await this.options.store.getKey(tenant, id);
    if (!record) throw errors.keyNotFound(tenant, id);
    return record;
  }

  update(tenant: string, id: string, input: UpdateKeyInput): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => applyUpdate(record, input, now));
  }

  /** Idempotent, even when two revocations race: revoking a revoked key returns it unchanged. */
  revoke(tenant: string, id: string): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => (record.revokedAt ? record : revoke(record, now)));
  }

  /**
   * A lost race is reported, not retried: retrying would silently invalidate the secret the other
   * caller was just handed.
   */
  async regenerate(tenant: string, id: string, input: RegenerateKeyInput = {}): Promise<IssuedKey> {
    const current = await this.get(tenant, id);
    const key = generateKey(current.environment);
    const next = regenerateSecret(current, key, input.graceSeconds ?? 0, this.clock());
    if ((await this.options.store.saveKeyChanges(current, next)) === 'conflict') {
      throw await this.conflictOrRevoked(tenant, id);
    }
    this.options.onKeyChanged?.(id, next);
    return { record: next, key };
  }

  private async change(
    tenant: string,
    id: string,
    transition: (record: ApiKeyRecord, now: Date) => ApiKeyRecord,
  ): Promise<ApiKeyRecord> {
    let current = await this.get(tenant, id);
    for (let attempt = 1; ; attempt++) {
      const next = transition(current, this.clock());
      if (next === current) return current;
      if ((await this.options.store.saveKeyChanges(current, next)) === 'saved') {
        this.options.onKeyChanged?.(id, next);
        return next;
      }
      if (attempt === MAX_ATTEMPTS) throw await this.conflictOrRevoked(tenant, id);
      current = await this.get(tenant, id);
    }
  }

  private async conflictOrRevoked(tenant: string, id: string) {
    const latest = await this.get(tenant, id);
    return latest.revokedAt ? errors.keyRevoked(id) : errors.conflict(id);
  }
}
