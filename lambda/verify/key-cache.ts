/**
 * Key records by secret hash, so a warm request does no I/O. Entries are fresh for `freshMs`;
 * after that they are still served while one background refresh runs, up to `maxStaleMs`. Unknown
 * hashes are remembered for `freshMs` too, so garbage keys don't each cost a store read.
 */
import type { ApiKeyRecord } from '../keys/key-record';

export interface KeyCacheOptions {
  /** How long an entry is served without a refresh. Bounds how long another instance's change goes unseen. @default 1000 */
  readonly freshMs?: number;
  /** After this age an entry is not served even while refreshing; the request waits for the store. @default 5000 */
  readonly maxStaleMs?: number;
  /** Entries kept; the oldest inserted is dropped first. @default 10000 */
  readonly maxEntries?: number;
}

export interface CacheEntry {
  /** undefined: the store knows no key with this secret. */
  readonly record: ApiKeyRecord | undefined;
  readonly fetchedAt: number;
}

export type Freshness = 'fresh' | 'stale' | 'expired';

const DEFAULTS = { freshMs: 1000, maxStaleMs: 5000, maxEntries: 10_000 };

export class KeyCache {
  private readonly options: Required<KeyCacheOptions>;
  private readonly entries = new Map<string, CacheEntry>();
  /** key id → secret hashes cached for it, so a change to a key drops all of its entries. */
  private readonly hashesByKeyId = new Map<string, Set<string>>();

  constructor(options: KeyCacheOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  get(secretHash: string): CacheEntry | undefined {
    return this.entries.get(secretHash);
  }

  freshness(entry: CacheEntry, nowMs: number): Freshness {
    const age = nowMs - entry.fetchedAt;
    if (age < this.options.freshMs) return 'fresh';
    return age < this.options.maxStaleMs ? 'stale' : 'expired';
  }

  set(secretHash: string, record: ApiKeyRecord | undefined, nowMs: number): void {
    if (!this.entries.has(secretHash) && this.entries.size >= this.options.maxEntries) this.evictOldest();
    this.entries.delete(secretHash);
    this.entries.set(secretHash, { record, fetchedAt: nowMs });
    if (record) {
      let hashes = this.hashesByKeyId.get(record.id);
      if (!hashes) this.hashesByKeyId.set(record.id, (hashes = new Set()));
      hashes.add(secretHash);
    }
  }

  /** Forgets every entry of a key; called by the instance that changed it, so the change is seen at once. */
  forgetKey(keyId: string): void {
    for (const hash of this.hashesByKeyId.get(keyId) ?? []) this.entries.delete(hash);
    this.hashesByKeyId.delete(keyId);
  }

  /** Forgets unknown-hash entries, e.g. after this instance created a key whose hash was probed before. */
  forgetHash(secretHash: string): void {
    this.entries.delete(secretHash);
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done) return;
    const record = this.entries.get(oldest.value)?.record;
    this.entries.delete(oldest.value);
    if (record) this.hashesByKeyId.get(record.id)?.delete(oldest.value);
  }
}
