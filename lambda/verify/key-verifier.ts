/**
 * Decides whether a presented key may be used: format and checksum, environment, then the record
 * (from cache or store), its secret, revocation, disabling and expiry. Warm calls are synchronous.
 */
import { errors, type VerificationCode } from '../errors';
import type { Environment } from '../keys/environments';
import { hasKeyLength, parseKey } from '../keys/key-format';
import { type ApiKeyRecord, acceptsCredential, keyStatus } from '../keys/key-record';
import { hashCredential } from '../keys/credential-hash';
import type { KeyStore } from '../store/key-store';
import { type CacheEntry, KeyCache, type KeyCacheOptions } from './key-cache';
import { TokenBucket } from './token-bucket';

/**
 * `credentialHash` is set with `key`: which of the key's credentials (current, pending or in grace)
 * was presented, so usage can be recorded per credential.
 */
export type Verification =
  | { readonly ok: true; readonly key: ApiKeyRecord; readonly credentialHash: string }
  | {
      readonly ok: false;
      readonly code: VerificationCode;
      readonly key?: ApiKeyRecord;
      readonly credentialHash?: string;
      /**
       * The key a refused credential belonged to, when it is one the key accepted once and no
       * longer does (retired by a rotation, or a regenerate's grace ended): still INVALID_API_KEY
       * to the client, who learns nothing more, but an alert to the key's owner.
       */
      readonly retiredFrom?: ApiKeyRecord;
    };

/**
 * Store reads this instance may spend on keys it doesn't know (none of its cache entries holds a
 * record for the hash). The checksum is public, so made-up keys pass it; without a bound, each one
 * costs a strongly consistent read. Known keys' reads (refreshes, re-reads after a change here)
 * are not charged: they are bounded by the keys cached, one read per key at a time.
 * @example { ratePerSecond: 20, burst: 100 }
 */
export interface UnknownKeyReadOptions {
  /** Reads per second, refilled continuously. @default 100 */
  readonly ratePerSecond?: number;
  /** Reads available at once, e.g. while a new instance meets its working set of keys. @default 500 */
  readonly burst?: number;
}

export interface KeyVerifierOptions {
  readonly store: Pick<KeyStore, 'findKeyBySecretHash'>;
  /** The environment this service runs as; keys of another environment are refused. */
  readonly environment: Environment;
  readonly cache?: KeyCacheOptions;
  /** When it is spent, an unknown key gets 503 SERVICE_UNAVAILABLE with Retry-After, without I/O. */
  readonly unknownKeyReads?: UnknownKeyReadOptions;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Told when a background refresh fails; the stale entry keeps serving until maxStaleMs. */
  readonly onRefreshError?: (error: unknown) => void;
  /**
   * Told when unknown keys are refused because the budget is spent: at the first refusal, then at
   * most once a minute, with the number refused since the last call. (Refusals are not logged one
   * by one: a flood would flood the logs too.)
   */
  readonly onUnknownKeysRefused?: (refused: number) => void;
}

const MISSING: Verification = { ok: false, code: 'MISSING_API_KEY' };
const INVALID: Verification = { ok: false, code: 'INVALID_API_KEY' };
const WRONG_ENVIRONMENT: Verification = { ok: false, code: 'ENVIRONMENT_MISMATCH' };
const UNKNOWN_KEY_READ_DEFAULTS = { ratePerSecond: 100, burst: 500 };
/**
 * Store reads per verification at most, re-reads included. Past it the key is changing faster than
 * it can be read; the last answer may predate a revocation, so none is served (503 instead).
 */
export const MAX_READS_PER_VERIFICATION = 3;
const REFUSAL_REPORT_INTERVAL_MS = 60_000;

/** A store read out for one hash, and what this instance forgot while it was out. */
interface InFlightRead {
  promise: Promise<ApiKeyRecord | undefined>;
  hashForgotten: boolean;
  /** Keys forgotten meanwhile; the read is retried if the record it returns is one of them. */
  keyIdsForgotten: Set<string> | undefined;
}

export class KeyVerifier {
  readonly cache: KeyCache;
  private readonly inFlight = new Map<string, InFlightRead>();
  private readonly unknownKeyReads: TokenBucket;
  private refusedUnknown = 0;
  private refusalsReportedAt = Number.NEGATIVE_INFINITY;
  private readonly clock: () => number;

  constructor(private readonly options: KeyVerifierOptions) {
    this.cache = new KeyCache(options.cache);
    this.clock = options.clock ?? Date.now;
    const budget = { ...UNKNOWN_KEY_READ_DEFAULTS, ...options.unknownKeyReads };
    for (const name of ['ratePerSecond', 'burst'] as const) {
      if (!(Number.isFinite(budget[name]) && budget[name] > 0)) {
        throw new RangeError(`unknownKeyReads.${name} must be a positive number, got ${budget[name]}. Leave it out for the default (${UNKNOWN_KEY_READ_DEFAULTS[name]}).`);
      }
    }
    this.unknownKeyReads = new TokenBucket(budget.ratePerSecond, budget.burst, this.clock());
  }

  /**
   * Throws a 503 KeyrollError, without I/O, for a key this instance doesn't know while its budget
   * for unknown keys is spent; the returned promise rejects when the store fails. `hashOf` must be
   * hashCredential or give its answer (the hot path remembers it per connection).
   */
  verify(presented: string | undefined, hashOf: (presented: string) => string = hashCredential): Verification | Promise<Verification> {
    if (!presented) return MISSING;
    if (!hasKeyLength(presented)) return INVALID;
    const credentialHash = hashOf(presented);
    const now = this.clock();
    const cached = this.cache.get(credentialHash);
    // Hot path: a hash that matched a stored key came from a well-formed key, so its format and
    // checksum were already checked when it was first seen; only the lookup is repeated.
    if (cached?.record && this.serve(cached, credentialHash, now)) return this.judge(cached.record, credentialHash, now);
    const parsed = parseKey(presented);
    // Refused before any I/O: a checksum failure or another environment's key never reaches the store.
    if (!parsed) return INVALID;
    if (parsed.environment !== this.options.environment) return WRONG_ENVIRONMENT;
    if (cached && this.serve(cached, credentialHash, now)) return this.judge(cached.record, credentialHash, now);
    // Refused, not guessed: the key may be real (new, or evicted), so 503 asks for a retry, as a
    // store outage does, rather than calling it invalid. A known key's entry still lets it read.
    if (!cached?.record && !this.mayReadUnknown(credentialHash, now)) throw this.refuseUnknown(now);
    return this.refresh(credentialHash).then((record) => this.judge(record, credentialHash, this.clock()));
  }

  /** Whether a cached entry may answer now; a stale one also starts a background refresh. */
  private serve(entry: CacheEntry, credentialHash: string, now: number): boolean {
    const freshness = this.cache.freshness(entry, now);
    // A stale unknown hash is re-checked only within the budget; until then it stays refused.
    if (freshness === 'stale' && !this.inFlight.has(credentialHash) && (entry.record || this.mayReadUnknown(credentialHash, now))) {
      this.refresh(credentialHash).catch((error) => this.options.onRefreshError?.(error));
    }
    return freshness !== 'expired';
  }

  /** A read already out for this hash costs nothing more; a new one takes from the budget. */
  private mayReadUnknown(credentialHash: string, now: number): boolean {
    return this.inFlight.has(credentialHash) || this.unknownKeyReads.take(now);
  }

  private refuseUnknown(now: number) {
    this.refusedUnknown += 1;
    if (now - this.refusalsReportedAt >= REFUSAL_REPORT_INTERVAL_MS) {
      this.options.onUnknownKeysRefused?.(this.refusedUnknown);
      this.refusedUnknown = 0;
      this.refusalsReportedAt = now;
    }
    return errors.unknownKeyBudgetSpent(this.unknownKeyReads.retryAfterSeconds(now));
  }

  private judge(record: ApiKeyRecord | undefined, credentialHash: string, now: number): Verification {
    if (record && record.environment !== this.options.environment) return WRONG_ENVIRONMENT;
    return judgeRecord(record, credentialHash, now);
  }

  /**
   * Drops a key from this instance's cache; call after changing it so the change applies at once.
   * Store reads already out may predate the change: those that return this key are re-done.
   */
  forgetKey(keyId: string): void {
    this.cache.forgetKey(keyId);
    // Only the reads out now can predate the change; each notes it and forgets with it when done.
    for (const read of this.inFlight.values()) (read.keyIdsForgotten ??= new Set()).add(keyId);
  }

  forgetSecretHash(credentialHash: string): void {
    this.cache.forgetHash(credentialHash);
    const read = this.inFlight.get(credentialHash);
    if (read) read.hashForgotten = true;
  }

  /** One store read per hash at a time, however many requests are waiting for it. */
  private refresh(credentialHash: string): Promise<ApiKeyRecord | undefined> {
    const pending = this.inFlight.get(credentialHash);
    if (pending) return pending.promise;
    const read: InFlightRead = { promise: undefined!, hashForgotten: false, keyIdsForgotten: undefined };
    read.promise = this.read(credentialHash, read).finally(() => {
      if (this.inFlight.get(credentialHash) === read) this.inFlight.delete(credentialHash);
    });
    this.inFlight.set(credentialHash, read);
    return read.promise;
  }

  /**
   * Reads again when this instance changed the key being read meanwhile (its hash, or the key the
   * record turns out to be): that answer may predate the change. Other keys' changes don't matter.
   */
  private async read(credentialHash: string, read: InFlightRead): Promise<ApiKeyRecord | undefined> {
    for (let attempt = 1; ; attempt++) {
      read.hashForgotten = false;
      read.keyIdsForgotten = undefined;
      const record = await this.options.store.findKeyBySecretHash(credentialHash);
      if (!forgottenDuring(read, record)) {
        this.cache.set(credentialHash, record, this.clock());
        return record;
      }
      if (attempt === MAX_READS_PER_VERIFICATION) throw errors.keyChangingWhileRead();
    }
  }
}

/** Whether this instance changed the key a read returned (or the hash it read) while it was out. */
function forgottenDuring(read: InFlightRead, record: ApiKeyRecord | undefined): boolean {
  return read.hashForgotten || (record !== undefined && read.keyIdsForgotten?.has(record.id) === true);
}

function judgeRecord(record: ApiKeyRecord | undefined, credentialHash: string, now: number): Verification {
  if (!record) return INVALID;
  // The hash's pointer led here, so the key accepted it once (pointers outlive their credential by
  // POINTER_LINGER_SECONDS). A revoked key's credentials are not "retired": revoking says it all.
  if (!acceptsCredential(record, credentialHash, now)) return record.revokedAt ? INVALID : { ok: false, code: 'INVALID_API_KEY', retiredFrom: record, credentialHash };
  switch (keyStatus(record, now)) {
    case 'active':
      return { ok: true, key: record, credentialHash };
    case 'revoked':
      return INVALID;
    case 'expired':
      return { ok: false, code: 'KEY_EXPIRED', key: record, credentialHash };
    case 'inactive':
      return { ok: false, code: 'KEY_DISABLED', key: record, credentialHash };
  }
}
