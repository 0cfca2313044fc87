/**
 * Key management use cases over a KeyStore: create, list, get, update, regenerate, revoke, and the
 * credential steps of a rotation. Loads a key, applies a pure transition, saves it conditionally,
 * and retries when another writer won.
 */
import { errors } from '../errors';
import { generateKey } from '../keys/key-format';
import type { CreateKeyInput, RegenerateKeyInput, UpdateKeyInput } from '../keys/key-input';
import type { ApiKeyRecord, DeclaredKey } from '../keys/key-record';
import {
  addPendingCredential,
  applyUpdate,
  createRecord,
  type CreateRecordOptions,
  dropPendingCredential,
  markDeclared,
  newKeyId,
  promotePendingCredential,
  regenerateCredential,
  retireGraceCredential,
  revoke,
} from '../keys/key-transitions';
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

/**
 * Checks that the caller may change the key as it is now; throws if not. Run against every version
 * the change is applied to, so a key changed between the check and the write is checked again.
 */
export type ChangeGuard = (current: ApiKeyRecord) => void;

export interface ListPageOptions {
  readonly limit: number;
  /** Start after this key id (the previous page's `nextAfterId`). */
  readonly afterId?: string;
  /** Keys the caller may see; others are skipped and do not count toward `limit`. @default all */
  readonly visible?: (record: ApiKeyRecord) => boolean;
}

export interface ListPage {
  readonly records: ApiKeyRecord[];
  /** Where the next page starts, when there may be one. */
  readonly nextAfterId?: string;
}

export class KeyManager {
  private readonly clock: () => Date;

  constructor(private readonly options: KeyManagerOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * @param id a pre-generated id (see `newKeyId`), for callers that must record it before issuing.
   * @param options what only internal callers set, e.g. the provisioner's `declared`.
   */
  async create(tenant: string, input: CreateKeyInput, id: string = newKeyId(), options: CreateRecordOptions = {}): Promise<IssuedKey> {
    const key = generateKey(input.environment);
    const record = createRecord(tenant, input, key, this.clock(), id, options);
    await this.options.store.insertKey(record);
    this.options.onKeyChanged?.(record.id, record);
    return { record, key };
  }

  list(tenant: string): Promise<ApiKeyRecord[]> {
    return this.options.store.listKeys(tenant);
  }

  /** Up to `limit` visible keys, reading store pages until the page is full or the tenant ends. */
  async listPage(tenant: string, options: ListPageOptions): Promise<ListPage> {
    const records: ApiKeyRecord[] = [];
    let afterId = options.afterId;
    for (;;) {
      const page = await this.options.store.listKeyPage(tenant, { limit: options.limit, afterId });
      for (const [index, record] of page.records.entries()) {
        if (options.visible && !options.visible(record)) continue;
        records.push(record);
        if (records.length === options.limit) {
          const more = index < page.records.length - 1 || page.lastEvaluatedId !== undefined;
          return { records, ...(more ? { nextAfterId: record.id } : {}) };
        }
      }
      if (!page.lastEvaluatedId) return { records };
      afterId = page.lastEvaluatedId;
    }
  }

  async get(tenant: string, id: string): Promise<ApiKeyRecord> {
    const record = await this.options.store.getKey(tenant, id);
    if (!record) throw errors.keyNotFound(tenant, id);
    return record;
  }

  update(tenant: string, id: string, input: UpdateKeyInput, guard?: ChangeGuard): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => {
      guard?.(record);
      return applyUpdate(record, input, now);
    });
  }

  /** Idempotent, even when two revocations race: revoking a revoked key returns it unchanged. */
  revoke(tenant: string, id: string, guard?: ChangeGuard): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => {
      guard?.(record);
      return record.revokedAt ? record : revoke(record, now);
    });
  }

  /**
   * A lost race is reported, not retried: retrying would silently invalidate the secret the other
   * caller was just handed.
   */
  async regenerate(tenant: string, id: string, input: RegenerateKeyInput = {}, guard?: ChangeGuard): Promise<IssuedKey> {
    const current = await this.get(tenant, id);
    guard?.(current);
    const key = generateKey(current.environment);
    const next = regenerateCredential(current, key, input.graceSeconds ?? 0, this.clock());
    if ((await this.options.store.saveKeyChanges(current, next)) === 'conflict') {
      throw await this.conflictOrRevoked(tenant, id);
    }
    this.options.onKeyChanged?.(id, next);
    return { record: next, key };
  }

  /** For keys issued for a spec before keys carried `declared` (the provisioner, on its next apply). Idempotent. */
  markDeclared(tenant: string, id: string, declared: DeclaredKey): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => markDeclared(record, declared, now));
  }

  /** setSecret: `credential` opens the key too, until rotation `rotationToken` promotes or drops it. Idempotent. */
  addPending(tenant: string, id: string, credential: string, rotationToken: string): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => addPendingCredential(record, credential, rotationToken, now));
  }

  /** finishSecret: the pending credential becomes current; the old one works until `graceUntil`. Idempotent. */
  promotePending(tenant: string, id: string, rotationToken: string, graceUntil: Date | string): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => promotePendingCredential(record, rotationToken, graceUntil, now));
  }

  /** Repair of a failed rotation: its pending credential stops working. A no-op when it is not pending. */
  dropPending(tenant: string, id: string, rotationToken: string): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => dropPendingCredential(record, rotationToken, now));
  }

  /** The sweep: the grace credential with this hash stops working now. A no-op when it is not in grace. */
  retireGrace(tenant: string, id: string, credentialHash: string): Promise<ApiKeyRecord> {
    return this.change(tenant, id, (record, now) => retireGraceCredential(record, credentialHash, now));
  }

  /** Per credential hash, its last recorded use (ISO-8601); hashes never used are absent. */
  credentialLastUsed(hashes: readonly string[]): Promise<Map<string, string>> {
    return this.options.store.credentialLastUsed(hashes);
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
