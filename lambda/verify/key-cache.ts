/**
 * Key records by secret hash, so a warm request does no I/O. Entries are fresh for `freshMs`;
 * after that they are still served while one background refresh runs, up to `maxStaleMs`. Unknown
 * hashes are remembered too, so a repeated wrong key doesn't cost a store read each time, but in
 * a map of their own: a flood of made-up keys (the checksum is public) can't evict real ones.
 */
import type { ApiKeyRecord } from '../keys/key-record';

export interface KeyCacheOptions {
  /** How long an entry is served without a refresh. Bounds how long another instance's change goes unseen. @default 1000 */
  readonly freshMs?: number;
  /** After this age an entry is not served even while refreshing; the request waits for the store. @default 5000 */
  readonly maxStaleMs?: number;
  /** Known keys' entries kept; the oldest inserted is dropped first. @default 10000 */
  readonly maxEntries?: number;
  /** Unknown hashes remembered; the oldest is dropped first. @default 10000 */
  readonly maxUnknown?: number;
}

export interface CacheEntry {
  /** undefined: the store knows no key with this secret. */
  readonly record: ApiKeyRecord | undefined;
  /** {@link FORGOTTEN} once this instance changed the key: never served again, see forgetKey. */
  readonly fetchedAt: number;
}

/** The age of a forgotten entry: always expired, so the next request waits for a store read. */
const FORGOTTEN = Number.NEGATIVE_INFINITY;

export type Freshness = 'fresh' | 'stale' | 'expired';

const DEFAULTS = { freshMs: 1000, maxStaleMs: 5000, maxEntries: 10_000, maxUnknown: 10_000 };

export class KeyCache {
  private readonly options: Required<KeyCacheOptions>;
  private readonly entries = new Map<string, CacheEntry>();
  private readonly unknown = new Map<string, CacheEntry>();
  /** key id → secret hashes cached for it, so a change to a key drops all of its entries. */
  private readonly hashesByKeyId = new Map<string, Set<string>>();

  constructor(options: KeyCacheOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  get(credentialHash: string): CacheEntry | undefined {
    return this.entries.get(credentialHash) ?? this.unknown.get(credentialHash);
  }

  freshness(entry: CacheEntry, nowMs: number): Freshness {
    const age = nowMs - entry.fetchedAt;
    if (age < this.options.freshMs) return 'fresh';
    return age < this.options.maxStaleMs ? 'stale' : 'expired';
  }

  set(credentialHash: string, record: ApiKeyRecord | undefined, nowMs: number): void {
    const entry = { record, fetchedAt: nowMs };
    if (!record) {
      const was = this.entries.get(credentialHash)?.record;
      this.entries.delete(credentialHash);
      if (was) this.untrack(was.id, credentialHash);
      insertBounded(this.unknown, credentialHash, entry, this.options.maxUnknown);
      return;
    }
    this.unknown.delete(credentialHash);
    const evicted = insertBounded(this.entries, credentialHash, entry, this.options.maxEntries);
    if (evicted?.record) this.untrack(evicted.record.id, evicted.hash);
    let hashes = this.hashesByKeyId.get(record.id);
    if (!hashes) this.hashesByKeyId.set(record.id, (hashes = new Set()));
    hashes.add(credentialHash);
  }

  /**
   * Forgets every entry of a key; called by the instance that changed it, so the change is seen at
   * once. The entries stay, expired and never served, only to say their hashes belong to a real
   * key: the verifier re-reads them without charging its budget for unknown keys.
   */
  forgetKey(keyId: string): void {
    for (const hash of this.hashesByKeyId.get(keyId) ?? []) this.expire(hash);
  }

  /** Forgets one hash, e.g. after this instance created a key whose hash was probed (unknown) before. */
  forgetHash(credentialHash: string): void {
    this.unknown.delete(credentialHash);
    this.expire(credentialHash);
  }

  private expire(credentialHash: string): void {
    const entry = this.entries.get(credentialHash);
    // Replaced in place: the entry keeps its age in the eviction order.
    if (entry) this.entries.set(credentialHash, { record: entry.record, fetchedAt: FORGOTTEN });
  }

  private untrack(keyId: string, credentialHash: string): void {
    const hashes = this.hashesByKeyId.get(keyId);
    hashes?.delete(credentialHash);
    if (hashes?.size === 0) this.hashesByKeyId.delete(keyId);
  }
}

/** Inserts as newest; drops the oldest when full. Returns what was dropped. */
function insertBounded(map: Map<string, CacheEntry>, hash: string, entry: CacheEntry, max: number) {
  map.delete(hash);
  let evicted: { hash: string; record: ApiKeyRecord | undefined } | undefined;
  if (map.size >= max) {
    const oldest = map.entries().next().value;
    if (oldest) {
      map.delete(oldest[0]);
      evicted = { hash: oldest[0], record: oldest[1].record };
    }
  }
  map.set(hash, entry);
  return evicted;
}
