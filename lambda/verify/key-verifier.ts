/**
 * Decides whether a presented key may be used: format and checksum, environment, then the record
 * (from cache or store), its secret, revocation, disabling and expiry. Warm calls are synchronous.
 */
import type { VerificationCode } from '../errors';
import type { Environment } from '../keys/environments';
import { hasKeyLength, parseKey } from '../keys/key-format';
import { type ApiKeyRecord, acceptsSecret, keyStatus } from '../keys/key-record';
import { hashSecret } from '../keys/secret-hash';
import type { KeyStore } from '../store/key-store';
import { type CacheEntry, KeyCache, type KeyCacheOptions } from './key-cache';

export type Verification =
  | { readonly ok: true; readonly key: ApiKeyRecord }
  | { readonly ok: false; readonly code: VerificationCode; readonly key?: ApiKeyRecord };

export interface KeyVerifierOptions {
  readonly store: Pick<KeyStore, 'findKeyBySecretHash'>;
  /** The environment this service runs as; keys of another environment are refused. */
  readonly environment: Environment;
  readonly cache?: KeyCacheOptions;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Told when a background refresh fails; the stale entry keeps serving until maxStaleMs. */
  readonly onRefreshError?: (error: unknown) => void;
}

const MISSING: Verification = { ok: false, code: 'MISSING_API_KEY' };
const INVALID: Verification = { ok: false, code: 'INVALID_API_KEY' };
const WRONG_ENVIRONMENT: Verification = { ok: false, code: 'ENVIRONMENT_MISMATCH' };

export class KeyVerifier {
  readonly cache: KeyCache;
  private readonly inFlight = new Map<string, Promise<ApiKeyRecord | undefined>>();
  /** Bumped by every forget, so a store read that started before a change is not trusted after it. */
  private generation = 0;
  private readonly clock: () => number;

  constructor(private readonly options: KeyVerifierOptions) {
    this.cache = new KeyCache(options.cache);
    this.clock = options.clock ?? Date.now;
  }

  verify(presented: string | undefined): Verification | Promise<Verification> {
    if (!presented) return MISSING;
    if (!hasKeyLength(presented)) return INVALID;
    const secretHash = hashSecret(presented);
    const now = this.clock();
    const cached = this.cache.get(secretHash);
    // Hot path: a hash that matched a stored key came from a well-formed key, so its format and
    // checksum were already checked when it was first seen; only the lookup is repeated.
    if (cached?.record && this.serve(cached, secretHash, now)) return this.judge(cached.record, secretHash, now);
    const parsed = parseKey(presented);
    // Refused before any I/O: a checksum failure or another environment's key never reaches the store.
    if (!parsed) return INVALID;
    if (parsed.environment !== this.options.environment) return WRONG_ENVIRONMENT;
    if (cached && this.serve(cached, secretHash, now)) return this.judge(cached.record, secretHash, now);
    return this.refresh(secretHash).then((record) => this.judge(record, secretHash, this.clock()));
  }

  /** Whether a cached entry may answer now; a stale one also starts a background refresh. */
  private serve(entry: CacheEntry, secretHash: string, now: number): boolean {
    const freshness = this.cache.freshness(entry, now);
    if (freshness === 'stale') this.refresh(secretHash).catch((error) => this.options.onRefreshError?.(error));
    return freshness !== 'expired';
  }

  private judge(record: ApiKeyRecord | undefined, secretHash: string, now: number): Verification {
    if (record && record.environment !== this.options.environment) return WRONG_ENVIRONMENT;
    return judgeRecord(record, secretHash, now);
  }

  /**
   * Drops a key from this instance's cache; call after changing it so the change applies at once.
   * Store reads already out may predate the change: see {@link read}.
   */
  forgetKey(keyId: string): void {
    this.generation += 1;
    this.cache.forgetKey(keyId);
  }

  forgetSecretHash(secretHash: string): void {
    this.generation += 1;
    this.cache.forgetHash(secretHash);
  }

  /** One store read per hash at a time, however many requests are waiting for it. */
  private refresh(secretHash: string): Promise<ApiKeyRecord | undefined> {
    const pending = this.inFlight.get(secretHash);
    if (pending) return pending;
    const read = this.read(secretHash).finally(() => {
      if (this.inFlight.get(secretHash) === read) this.inFlight.delete(secretHash);
    });
    this.inFlight.set(secretHash, read);
    return read;
  }

  /** Reads again when this instance changed a key meanwhile: the first answer may predate the change. */
  private async read(secretHash: string): Promise<ApiKeyRecord | undefined> {
    for (;;) {
      const startedIn = this.generation;
      const record = await this.options.store.findKeyBySecretHash(secretHash);
      if (this.generation === startedIn) {
        this.cache.set(secretHash, record, this.clock());
        return record;
      }
    }
  }
}

function judgeRecord(record: ApiKeyRecord | undefined, secretHash: string, now: number): Verification {
  if (!record || !acceptsSecret(record, secretHash, now)) return INVALID;
  switch (keyStatus(record, now)) {
    case 'active':
      return { ok: true, key: record };
    case 'revoked':
      return INVALID;
    case 'expired':
      return { ok: false, code: 'KEY_EXPIRED', key: record };
    case 'inactive':
      return { ok: false, code: 'KEY_DISABLED', key: record };
  }
}
