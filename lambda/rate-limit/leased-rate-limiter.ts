/**
 * RateLimiter that leases quota from a shared store in chunks, so most requests are decided in memory
 * and several instances together still admit at most `limit` in any interval of `windowSeconds`.
 *
 * Per key, the window is cut into N slices; the store counts tokens leased per slice and grants a lease
 * only while every run of N + 1 slices containing it stays within the limit (see sliding-window.ts). A
 * token is used only while this instance's clock is inside the slice it was leased for; the rest is
 * handed back when the slice ends, so a quiet instance does not starve the others.
 */
import type { RateLimit } from '../keys/key-record';
import { invalidRateLimiterOption, rateLimiterClosed } from './errors';
import { type HandBack, KeyQuota } from './key-quota';
import type { RateLimitDecision, RateLimiter } from './rate-limiter';
import type { LeaseResult, RateLimitCounter, RateLimitStore } from './rate-limit-store';
import { MAX_SLICES_PER_WINDOW } from './sliding-window';

/** Shaped so that console and a Powertools Logger both fit. */
export interface RateLimitLogger {
  warn(message: string, details: Record<string, unknown>): void;
}

export interface LeasedRateLimiterOptions {
  /** The counter every instance leases from. */
  readonly store: RateLimitStore;
  /**
   * Slices per window. More slices give capacity back closer to exactly one window after use and strand
   * less quota, at the price of more leases. Every instance sharing the store must use the same value.
   * @default 10
   */
  readonly slicesPerWindow?: number;
  /** Epoch milliseconds; also what `consume` uses when `nowMs` is omitted. @default Date.now */
  readonly clock?: () => number;
  /** Told once per store outage that limits fall back to per-instance counting. @default console */
  readonly logger?: RateLimitLogger;
  /** Keys tracked at once; the longest-tracked are dropped beyond it. @default 10000 */
  readonly maxKeys?: number;
  /** How long a key whose window is full waits before asking the store again, as others may hand quota back. @default 1000 */
  readonly fullRecheckMs?: number;
}

const DEFAULTS = { slicesPerWindow: 10, clock: () => Date.now(), logger: console as RateLimitLogger, maxKeys: 10_000, fullRecheckMs: 1000 };
/** A request without tokens waits for at most this many leases before it is denied. */
const MAX_LEASES_AWAITED = 3;
const EVICTION_SCAN_MS = 10_000;
/** Timers fire a little after a slice ends, so the clock is surely past it. */
const SWEEP_SLACK_MS = 2;

/**
 * @example
 * const limiter = new LeasedRateLimiter({ store: new DynamoDbRateLimitStore(client, tables.rateLimits) });
 * const decision = await limiter.consume(key.id, key.rateLimit);
 */
export class LeasedRateLimiter implements RateLimiter {
  private readonly store: RateLimitStore;
  private readonly slicesPerWindow: number;
  private readonly clock: () => number;
  private readonly logger: RateLimitLogger;
  private readonly maxKeys: number;
  private readonly fullRecheckMs: number;

  private readonly quotas = new Map<string, KeyQuota>();
  /** Quotas holding leased tokens, which must be handed back when their slice ends even if no request comes. */
  private readonly holders = new Set<KeyQuota>();
  /** Every store call still running, so close() can wait for them. */
  private readonly background = new Set<Promise<void>>();
  /** Hand-backs still running, by counter, so a key's next quota leases only once they have landed. */
  private readonly releasing = new Map<string, Set<Promise<void>>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAtMs = Infinity;
  private lastEvictionMs = 0;
  private storeFailing = false;
  private closed = false;

  constructor(options: LeasedRateLimiterOptions) {
    const merged = { ...DEFAULTS, ...options };
    if (!Number.isInteger(merged.slicesPerWindow) || merged.slicesPerWindow < 1 || merged.slicesPerWindow > MAX_SLICES_PER_WINDOW) {
      throw invalidRateLimiterOption('slicesPerWindow', merged.slicesPerWindow, `a whole number from 1 to ${MAX_SLICES_PER_WINDOW}`);
    }
    if (!Number.isInteger(merged.maxKeys) || merged.maxKeys < 1) throw invalidRateLimiterOption('maxKeys', merged.maxKeys, 'a whole number ≥ 1');
    if (!(merged.fullRecheckMs >= 0)) throw invalidRateLimiterOption('fullRecheckMs', merged.fullRecheckMs, 'a number of milliseconds ≥ 0');
    this.store = merged.store;
    this.slicesPerWindow = merged.slicesPerWindow;
    this.clock = merged.clock;
    this.logger = merged.logger;
    this.maxKeys = merged.maxKeys;
    this.fullRecheckMs = merged.fullRecheckMs;
  }

  /** `nowMs`, when given, must come from the same clock as the `clock` option. */
  consume(keyId: string, rateLimit: RateLimit, nowMs?: number): RateLimitDecision | Promise<RateLimitDecision> {
    if (this.closed) throw rateLimiterClosed();
    const now = nowMs ?? this.clock();
    let quota = this.quotas.get(keyId);
    if (quota === undefined || quota.limit !== rateLimit.limit || quota.windowSeconds !== rateLimit.windowSeconds) {
      quota = this.track(keyId, rateLimit, now);
    }
    quota.lastSeenMs = now;
    if (now >= quota.sliceEndMs) quota.advance(now, this.handBack);
    quota.noteDemand(now);
    if (quota.tokens > 0) {
      quota.admit();
      this.prefetch(quota, now);
      return quota.allowed();
    }
    if (quota.degraded) return this.consumeLocally(quota, now);
    if (quota.inFlight === undefined) {
      if (now < quota.nextLeaseAtMs) return quota.denied(now);
      this.startLease(quota, quota.slice, now);
    }
    return this.awaitTokens(quota, rateLimit, nowMs);
  }

  /** Hands every unused token back, waits for store calls still running, and stops the timer. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearTimeout(this.sweepTimer);
      this.sweepTimer = undefined;
      for (const quota of this.quotas.values()) this.retire(quota);
    }
    // Leases still in flight hand their grants back when they land, which adds more calls to wait for.
    while (this.background.size > 0) await Promise.all(this.background);
  }

  private async awaitTokens(quota: KeyQuota, rateLimit: RateLimit, nowMs: number | undefined): Promise<RateLimitDecision> {
    for (let leases = 0; leases < MAX_LEASES_AWAITED && quota.inFlight !== undefined; leases++) {
      quota.waiters++;
      await quota.inFlight;
      quota.waiters--;
      if (quota.retired) return this.decideAfterRetirement(quota, rateLimit, nowMs);
      const now = nowMs ?? this.clock();
      if (now >= quota.sliceEndMs) quota.advance(now, this.handBack);
      if (quota.tokens > 0) {
        quota.admit();
        this.prefetch(quota, now);
        return quota.allowed();
      }
      if (quota.degraded) return this.consumeLocally(quota, now);
      // Another waiter may already have asked for more; otherwise ask, unless the window is known full.
      if (quota.inFlight === undefined && now >= quota.nextLeaseAtMs) this.startLease(quota, quota.slice, now);
    }
    return quota.denied(nowMs ?? this.clock());
  }

  /**
   * The quota was replaced while this request waited: the key's limit changed (decide under the new one,
   * as the request would have a moment later), it was evicted, or the limiter closed.
   */
  private decideAfterRetirement(quota: KeyQuota, rateLimit: RateLimit, nowMs: number | undefined): RateLimitDecision | Promise<RateLimitDecision> {
    if (this.closed) return quota.denied(nowMs ?? this.clock());
    const current = this.quotas.get(quota.keyId);
    const currentLimit = current ? { limit: current.limit, windowSeconds: current.windowSeconds } : rateLimit;
    return this.consume(quota.keyId, currentLimit, nowMs);
  }

  /** Leases ahead, in the background: more for this slice when half the last lease is left, the next slice near its end. */
  private prefetch(quota: KeyQuota, now: number): void {
    if (quota.inFlight !== undefined || quota.degraded || now < quota.nextLeaseAtMs) return;
    if (quota.tokens * 2 < quota.lastWanted) {
      this.startLease(quota, quota.slice, now);
    } else if (now >= quota.prefetchAtMs && !quota.nextSliceLeaseTried) {
      quota.nextSliceLeaseTried = true;
      this.startLease(quota, quota.slice + 1, now);
    }
  }

  private startLease(quota: KeyQuota, slice: number, now: number): void {
    const wanted = quota.leaseSize(now, slice > quota.slice);
    this.fly(quota, this.lease(quota, slice, wanted), slice, wanted);
  }

  private lease(quota: KeyQuota, slice: number, wanted: number) {
    return this.store.lease({
      counter: quota.counter,
      slice,
      wanted,
      limit: quota.limit,
      known: quota.known(),
      expiresAtSeconds: quota.expiresAtSeconds(slice),
    });
  }

  /** Degraded: the store is probed once a slice, in the background, while this instance counts on its own. */
  private consumeLocally(quota: KeyQuota, now: number): RateLimitDecision {
    if (quota.probedSlice !== quota.slice && quota.inFlight === undefined) {
      quota.probedSlice = quota.slice;
      this.probe(quota, now);
    }
    return quota.admitLocally() ? quota.allowedLocally() : quota.deniedLocally(now);
  }

  /** Records what was admitted without a lease first, so the lease that follows accounts for it. */
  private probe(quota: KeyQuota, now: number): void {
    const slice = quota.slice;
    const wanted = quota.leaseSize(now, false);
    const lease = this.recordUnrecorded(quota).then(() => this.lease(quota, slice, wanted));
    this.fly(quota, lease, slice, wanted);
  }

  private async recordUnrecorded(quota: KeyQuota): Promise<void> {
    const entries = quota.takeUnrecorded();
    const results = await Promise.allSettled(
      entries.map(([slice, count]) => this.store.record(quota.counter, slice, count, quota.expiresAtSeconds(slice))),
    );
    const failed = entries.filter((_, i) => results[i].status === 'rejected');
    if (failed.length > 0) {
      quota.restoreUnrecorded(failed);
      throw (results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason;
    }
  }

  /** One lease in flight per key; requests without tokens wait on it. It never rejects. */
  private fly(quota: KeyQuota, lease: Promise<LeaseResult>, slice: number, wanted: number): void {
    const flight: Promise<void> = lease
      .then(
        (result) => this.onLeased(quota, slice, wanted, result),
        (error: unknown) => this.onStoreFailure(quota, error),
      )
      .catch((error: unknown) => this.logger.warn('rate limit lease handling failed', { keyId: quota.keyId, error: String(error) }))
      .then(() => {
        if (quota.inFlight === flight) quota.inFlight = undefined;
      });
    quota.inFlight = flight;
    this.runInBackground(flight);
  }

  private onLeased(quota: KeyQuota, slice: number, wanted: number, result: LeaseResult): void {
    this.storeFailing = false;
    if (quota.retired) {
      if (result.granted > 0) this.handBack(quota.counter, slice, result.granted);
      return;
    }
    const wasDegraded = quota.degraded;
    quota.applyLease(slice, wanted, result, this.clock(), this.fullRecheckMs, this.handBack);
    // Admissions counted locally while the probe was running still have to reach the store.
    if (wasDegraded) this.runInBackground(this.recordUnrecorded(quota));
    if (quota.tokens > 0 || quota.nextTokens > 0) {
      this.holders.add(quota);
      this.scheduleSweep(quota.sliceEndMs);
    }
  }

  private onStoreFailure(quota: KeyQuota, error: unknown): void {
    if (!this.storeFailing) {
      this.storeFailing = true;
      this.logger.warn(
        'rate limit store failed; each instance now enforces rate limits on its own (up to instances × limit in total) until it answers again',
        { keyId: quota.keyId, error: String(error) },
      );
    }
    if (!quota.retired) quota.markDegraded();
  }

  /** Best effort: a hand-back that fails leaves the tokens counted until their slice leaves the window. */
  private readonly handBack: HandBack = (counter, slice, count) => {
    const id = counterId(counter);
    const settled = this.runInBackground(this.store.release(counter, slice, count));
    let running = this.releasing.get(id);
    if (running === undefined) this.releasing.set(id, (running = new Set()));
    running.add(settled);
    void settled.then(() => {
      running.delete(settled);
      if (running.size === 0 && this.releasing.get(id) === running) this.releasing.delete(id);
    });
  };

  private runInBackground(work: Promise<unknown>): Promise<void> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.background.add(settled);
    void settled.then(() => this.background.delete(settled));
    return settled;
  }

  private track(keyId: string, rateLimit: RateLimit, now: number): KeyQuota {
    const previous = this.quotas.get(keyId);
    if (previous) this.retire(previous);
    if (this.quotas.size >= this.maxKeys || now - this.lastEvictionMs >= EVICTION_SCAN_MS) this.evictIdle(now);
    // Still full of busy keys: drop the longest-tracked (Map order), the cheapest bound that needs no LRU upkeep.
    for (const oldest of this.quotas.values()) {
      if (this.quotas.size < this.maxKeys) break;
      this.retire(oldest);
    }
    const quota = new KeyQuota(keyId, rateLimit, this.slicesPerWindow, now);
    // While the store is known to fail, a new key counts locally at once and probes in the background.
    if (this.storeFailing) quota.degraded = true;
    else this.settleBeforeLeasing(quota, previous);
    this.quotas.set(keyId, quota);
    return quota;
  }

  /**
   * A replaced (or evicted) quota hands its unused tokens back, and a lease it had in flight hands back
   * what it is granted when it lands. Until those reach the store they still count there, so a first
   * lease now would get too little and then wait out fullRecheckMs: a raised limit would admit less than
   * it allows for a second. The new quota's requests wait for them instead, as they would for a lease.
   */
  private settleBeforeLeasing(quota: KeyQuota, previous: KeyQuota | undefined): void {
    const lease = previous?.inFlight;
    if (lease === undefined && !this.releasing.has(counterId(quota.counter))) return;
    const settling = (async () => {
      if (lease !== undefined) await lease;
      // Read only now: the lease, landing on a retired quota, has just added its own hand-back.
      const running = this.releasing.get(counterId(quota.counter));
      if (running !== undefined) await Promise.all(running);
    })();
    const flight: Promise<void> = settling.then(() => {
      if (quota.inFlight === flight) quota.inFlight = undefined;
    });
    quota.inFlight = flight;
    this.runInBackground(flight);
  }

  /** Keys unseen for two windows have nothing left in any window worth remembering. */
  private evictIdle(now: number): void {
    this.lastEvictionMs = now;
    for (const quota of this.quotas.values()) {
      if (now - quota.lastSeenMs > 2 * quota.windowMs && quota.inFlight === undefined) this.retire(quota);
    }
  }

  private retire(quota: KeyQuota): void {
    quota.retired = true;
    quota.drain(this.handBack);
    this.holders.delete(quota);
    if (this.quotas.get(quota.keyId) === quota) this.quotas.delete(quota.keyId);
  }

  private scheduleSweep(atMs: number): void {
    if (this.closed || atMs >= this.sweepAtMs) return;
    clearTimeout(this.sweepTimer);
    this.sweepAtMs = atMs;
    // unref: a pending hand-back must never keep a process (or a Lambda invocation) alive.
    this.sweepTimer = setTimeout(this.sweep, Math.max(0, atMs - this.clock()) + SWEEP_SLACK_MS).unref();
  }

  /** Hands back tokens of slices that ended without a request to roll them over. */
  private readonly sweep = (): void => {
    this.sweepTimer = undefined;
    this.sweepAtMs = Infinity;
    const now = this.clock();
    let nextEndMs = Infinity;
    for (const quota of this.holders) {
      if (now >= quota.sliceEndMs) quota.advance(now, this.handBack);
      if (quota.tokens === 0 && quota.nextTokens === 0) this.holders.delete(quota);
      else nextEndMs = Math.min(nextEndMs, quota.sliceEndMs);
    }
    if (now - this.lastEvictionMs >= EVICTION_SCAN_MS) this.evictIdle(now);
    if (nextEndMs < Infinity) this.scheduleSweep(nextEndMs);
  };
}

const counterId = (counter: RateLimitCounter): string => `${counter.keyId}#${counter.windowSeconds}#${counter.slicesPerWindow}`;
