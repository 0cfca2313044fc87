import type { RateLimit } from '../keys/key-record';
import { LeasedRateLimiter, type LeasedRateLimiterOptions } from './leased-rate-limiter';
import { MemoryRateLimitStore } from './memory-rate-limit-store';
import type { RateLimitDecision } from './rate-limiter';
import type { LeaseRequest, RateLimitCounter, RateLimitStore } from './rate-limit-store';

/** A slice boundary for windows of 10 s cut in 10 (and of 1 s, 2 s…): decisions are easy to read off. */
const T0 = 1_700_000_000_000;
const LIMIT_20: RateLimit = { limit: 20, windowSeconds: 10 };

function setup(options: Partial<LeasedRateLimiterOptions> = {}) {
  const clock = { now: T0 };
  const store = new MemoryRateLimitStore();
  const warnings: string[] = [];
  const limiter = new LeasedRateLimiter({
    store,
    clock: () => clock.now,
    logger: { warn: (message) => warnings.push(message) },
    ...options,
  });
  return { clock, store, limiter, warnings };
}

const counter = (keyId: string, rateLimit: RateLimit): RateLimitCounter => ({ keyId, windowSeconds: rateLimit.windowSeconds, slicesPerWindow: 10 });

async function consumeMany(limiter: LeasedRateLimiter, keyId: string, rateLimit: RateLimit, times: number): Promise<RateLimitDecision[]> {
  const decisions: RateLimitDecision[] = [];
  for (let i = 0; i < times; i++) decisions.push(await limiter.consume(keyId, rateLimit));
  return decisions;
}

const allowedCount = (decisions: RateLimitDecision[]) => decisions.filter((d) => d.allowed).length;

describe('LeasedRateLimiter — happy path', () => {
  it('admits exactly the limit in a window, counting remaining down, then denies until the window slides', async () => {
    const { limiter, clock } = setup();
    const decisions = await consumeMany(limiter, 'k1', LIMIT_20, 25);
    expect(allowedCount(decisions)).toBe(20);
    expect(decisions.slice(0, 20).map((d) => d.remaining)).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(decisions[0]).toMatchObject({ allowed: true, limit: 20, reset: (T0 + 11_000) / 1000 });
    // Everything sits in slice 0, which leaves the last window containing it 11 slices (W + one slice) later.
    expect(decisions[20]).toEqual({ allowed: false, limit: 20, remaining: 0, reset: (T0 + 11_000) / 1000, retryAfterSeconds: 11 });

    clock.now = T0 + 10_999;
    expect((await limiter.consume('k1', LIMIT_20)).allowed).toBe(false);
    clock.now = T0 + 11_000;
    expect(allowedCount(await consumeMany(limiter, 'k1', LIMIT_20, 25))).toBe(20);
    await limiter.close();
  });

  it('counts remaining down by one per request, through the next slice\'s lease-ahead and across the boundary', async () => {
    const { limiter, clock } = setup();
    const rateLimit = { limit: 1000, windowSeconds: 10 };
    const remaining: number[] = [];
    // 30 requests through slice 0, the last ten inside its final tenth (where the next slice is leased
    // ahead), then 10 just after the boundary, where those tokens are used.
    for (let i = 0; i < 40; i++) {
      clock.now = i < 20 ? T0 + i * 10 : i < 30 ? T0 + 950 + (i - 20) : T0 + 1000 + (i - 30);
      const decision = await limiter.consume('k1', rateLimit);
      remaining.push(decision.remaining);
      await Promise.resolve();
    }
    // Let background leases land between requests too.
    expect(remaining).toEqual(Array.from({ length: 40 }, (_, i) => 999 - i));
    await limiter.close();
  });

  it('keeps Retry-After within one window plus one slice, so more slices bring it closer to the window', async () => {
    for (const [slicesPerWindow, worst] of [[10, 66], [60, 61]]) {
      const { limiter, clock } = setup({ slicesPerWindow });
      const perMinute = { limit: 3, windowSeconds: 60 };
      // Worst case: the burst lands at the very start of a slice (a whole minute is a start for both).
      clock.now = 1_700_000_040_000;
      await consumeMany(limiter, 'k1', perMinute, 3);
      const denied = await limiter.consume('k1', perMinute);
      expect(denied).toMatchObject({ allowed: false, retryAfterSeconds: worst, reset: clock.now / 1000 + worst });
      await limiter.close();
    }
  });

  it('gives back capacity slice by slice as the window slides', async () => {
    const { limiter, clock } = setup();
    expect(allowedCount(await consumeMany(limiter, 'k1', LIMIT_20, 8))).toBe(8);
    clock.now = T0 + 5_000;
    expect(allowedCount(await consumeMany(limiter, 'k1', LIMIT_20, 20))).toBe(12);
    // Slice 0 (8 requests) has left every window containing slice 11; slice 5 (12) has not.
    clock.now = T0 + 11_000;
    const later = await consumeMany(limiter, 'k1', LIMIT_20, 20);
    expect(allowedCount(later)).toBe(8);
    expect(later[8].retryAfterSeconds).toBe(5);
    await limiter.close();
  });

  it('decides almost every request synchronously, with few leases', async () => {
    const { limiter, store } = setup();
    const rateLimit = { limit: 1_000_000, windowSeconds: 60 };
    let promises = 0;
    let allowed = 0;
    for (let i = 0; i < 100_000; i++) {
      let decision = limiter.consume('hot', rateLimit);
      if (decision instanceof Promise) {
        promises++;
        decision = await decision;
      }
      if (decision.allowed) allowed++;
      // Let background leases land, as a server's event loop would between requests.
      if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(allowed).toBe(100_000);
    expect(promises).toBeLessThan(100);
    expect(store.calls.lease).toBeLessThan(200);
    await limiter.close();
  });

  it('serves a burst of concurrent first requests up to the limit, with few leases', async () => {
    const { limiter, store } = setup();
    const burst = (n: number, rateLimit: RateLimit, key: string) => Promise.all(Array.from({ length: n }, () => limiter.consume(key, rateLimit)));
    expect(allowedCount(await burst(500, { limit: 6000, windowSeconds: 60 }, 'wide'))).toBe(500);
    expect(store.calls.lease).toBeLessThan(10);
    expect(allowedCount(await burst(500, { limit: 100, windowSeconds: 60 }, 'narrow'))).toBe(100);
    await limiter.close();
  });

  it('gets a burst of 32 clients past waiting within a few store round trips', async () => {
    // Simulated time: each millisecond every client not waiting sends one request (32 per ms), and
    // the store answers a lease 10 ms after it was asked, as a busy store might.
    const ROUND_TRIP_MS = 10;
    const memory = new MemoryRateLimitStore();
    const due: Array<{ atMs: number; release: () => void }> = [];
    // Into a slice, as a burst after idle usually is: the slice's quiet start must not slow the ramp.
    const clock = { now: T0 + 2_500 };
    const slowStore: RateLimitStore = {
      lease: async (request) => {
        await new Promise<void>((release) => due.push({ atMs: clock.now + ROUND_TRIP_MS, release }));
        return memory.lease(request);
      },
      release: (counter, slice, count) => memory.release(counter, slice, count),
      record: (counter, slice, count) => memory.record(counter, slice, count),
    };
    const limiter = new LeasedRateLimiter({ store: slowStore, clock: () => clock.now });
    const rateLimit = { limit: 1_000_000_000, windowSeconds: 60 };
    const waiting = new Array<boolean>(32).fill(false);
    const waitedAtMs: number[] = [];
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    for (let ms = 0; ms < 300; ms++) {
      clock.now += 1;
      // Leases are asked in time order and take equally long, so the due ones are at the front.
      while (due.length > 0 && due[0].atMs <= clock.now) due.shift()!.release();
      await settle();
      waiting.forEach((isWaiting, client) => {
        if (isWaiting) return;
        const decision = limiter.consume('burst', rateLimit);
        if (decision instanceof Promise) {
          waiting[client] = true;
          waitedAtMs.push(ms);
          void decision.then(() => (waiting[client] = false));
        }
      });
      await settle();
    }
    // Every client waits at first, while the leases grow to outlast a round trip: 5 round trips
    // here. Before, the idle part of the slice counted in the rate estimate and the chunk doubled
    // from 1: 20 round trips, and requests still waited 220 ms into the burst.
    const roundTripsWaited = new Set(waitedAtMs.map((ms) => Math.floor(ms / ROUND_TRIP_MS))).size;
    expect(roundTripsWaited).toBeLessThanOrEqual(5);
    expect(waitedAtMs.filter((ms) => ms >= 6 * ROUND_TRIP_MS)).toEqual([]);
    await limiter.close();
  });

  it('hands unused tokens back from a timer when their slice ends and no request comes', async () => {
    jest.useFakeTimers({ now: T0, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const store = new MemoryRateLimitStore();
      const limiter = new LeasedRateLimiter({ store });
      await consumeMany(limiter, 'k1', LIMIT_20, 8);
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.peek(counter('k1', LIMIT_20)).counts.get(T0 / 1000)).toBeGreaterThan(8);
      await jest.advanceTimersByTimeAsync(1_100);
      expect(store.peek(counter('k1', LIMIT_20)).counts.get(T0 / 1000)).toBe(8);
      await limiter.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('hands unused tokens back when the next request comes in a later slice', async () => {
    const { limiter, clock, store } = setup();
    // Grow the chunk so tokens are left over: 1 + 2 + 4 + 8 leased for 8 requests.
    await consumeMany(limiter, 'k1', LIMIT_20, 8);
    await new Promise((resolve) => setImmediate(resolve));
    const leased = store.peek(counter('k1', LIMIT_20)).counts.get((T0 / 1000) | 0);
    expect(leased).toBeGreaterThan(8);
    clock.now = T0 + 1_000;
    await limiter.consume('k1', LIMIT_20);
    await limiter.close();
    expect(store.peek(counter('k1', LIMIT_20)).counts.get(T0 / 1000)).toBe(8);
  });

  it('shares one limit between instances using one store', async () => {
    const store = new MemoryRateLimitStore();
    const clock = { now: T0 };
    const make = () => new LeasedRateLimiter({ store, clock: () => clock.now });
    const [a, b] = [make(), make()];
    const decisions = await Promise.all([consumeMany(a, 'k1', LIMIT_20, 30), consumeMany(b, 'k1', LIMIT_20, 30)]);
    expect(allowedCount(decisions.flat())).toBe(20);
    await Promise.all([a.close(), b.close()]);
  });
});

/** Hand-backs wait until `letReleasesLand` while `holdReleases` is set. */
class SlowReleaseStore extends MemoryRateLimitStore {
  holdReleases = false;
  private readonly held: Array<() => void> = [];

  override async release(counter: RateLimitCounter, slice: number, count: number): Promise<void> {
    if (this.holdReleases) await new Promise<void>((resolve) => this.held.push(resolve));
    return super.release(counter, slice, count);
  }

  letReleasesLand(): void {
    this.holdReleases = false;
    for (const land of this.held.splice(0)) land();
  }
}

describe('LeasedRateLimiter — changes and bounds', () => {
  it('applies a changed limit at once, counting what the window already used', async () => {
    const { limiter } = setup();
    expect(allowedCount(await consumeMany(limiter, 'k1', LIMIT_20, 10))).toBe(10);
    expect(allowedCount(await consumeMany(limiter, 'k1', { limit: 12, windowSeconds: 10 }, 10))).toBe(2);
    expect(allowedCount(await consumeMany(limiter, 'k1', { limit: 40, windowSeconds: 10 }, 40))).toBe(28);
    await limiter.close();
  });

  it('lets a changed limit lease only once the replaced one\'s hand-backs have landed', async () => {
    const store = new SlowReleaseStore();
    const clock = { now: T0 };
    const limiter = new LeasedRateLimiter({ store, clock: () => clock.now });
    expect(allowedCount(await consumeMany(limiter, 'k1', LIMIT_20, 8))).toBe(8);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.peek(counter('k1', LIMIT_20)).counts.get(T0 / 1000)).toBeGreaterThan(8);
    // Hand-backs now take a while, as over the network: the new limit's first lease must not find the
    // replaced quota's unused tokens still counted, get too little and then wait out fullRecheckMs.
    store.holdReleases = true;
    const decisions = consumeMany(limiter, 'k1', { limit: 21, windowSeconds: 10 }, 20);
    await new Promise((resolve) => setImmediate(resolve));
    store.letReleasesLand();
    expect(allowedCount(await decisions)).toBe(13);
    await limiter.close();
  });

  it('keeps at most maxKeys keys and forgets idle ones', async () => {
    const { limiter, store } = setup({ maxKeys: 3 });
    for (const key of ['a', 'b', 'c', 'd']) await limiter.consume(key, LIMIT_20);
    // 'a' was dropped: its leased token went back, and it starts afresh with a new lease.
    const leasesBefore = store.calls.lease;
    await limiter.consume('a', LIMIT_20);
    expect(store.calls.lease).toBeGreaterThan(leasesBefore);
    await limiter.close();
  });

  it('refuses to be used after close, and close hands everything back', async () => {
    const { limiter, store } = setup();
    await consumeMany(limiter, 'k1', LIMIT_20, 5);
    await limiter.close();
    expect(store.peek(counter('k1', LIMIT_20)).counts.get(T0 / 1000)).toBe(5);
    expect(() => limiter.consume('k1', LIMIT_20)).toThrow(/closed/);
  });

  it('rejects options that cannot work, naming them', () => {
    const store = new MemoryRateLimitStore();
    expect(() => new LeasedRateLimiter({ store, slicesPerWindow: 0 })).toThrow(/slicesPerWindow/);
    expect(() => new LeasedRateLimiter({ store, maxKeys: 0 })).toThrow(/maxKeys/);
  });
});

describe('LeasedRateLimiter — store failures', () => {
  class FlakyStore extends MemoryRateLimitStore {
    failing = false;
    override async lease(request: LeaseRequest) {
      if (this.failing) throw new Error('ProvisionedThroughputExceededException');
      return super.lease(request);
    }
    override async record(c: RateLimitCounter, slice: number, count: number) {
      if (this.failing) throw new Error('ProvisionedThroughputExceededException');
      return super.record(c, slice, count);
    }
  }

  it('falls back to counting locally, warns once, and records what it admitted once the store is back', async () => {
    const store = new FlakyStore();
    const clock = { now: T0 };
    const warnings: string[] = [];
    const limiter = new LeasedRateLimiter({ store, clock: () => clock.now, logger: { warn: (m) => warnings.push(m) } });
    store.failing = true;
    const decisions = await consumeMany(limiter, 'k1', LIMIT_20, 25);
    expect(allowedCount(decisions)).toBe(20);
    expect(decisions[20]).toMatchObject({ allowed: false, retryAfterSeconds: 11 });
    await consumeMany(limiter, 'k2', LIMIT_20, 3);
    expect(warnings).toHaveLength(1);

    // Next slice: the store answers again; the 20 local admissions reach it, so the window stays full.
    store.failing = false;
    clock.now = T0 + 1_000;
    await consumeMany(limiter, 'k1', LIMIT_20, 3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.peek(counter('k1', LIMIT_20)).counts.get(T0 / 1000)).toBe(20);
    expect(allowedCount(await consumeMany(limiter, 'k1', LIMIT_20, 5))).toBe(0);
    await limiter.close();
  });

  it('never rejects a consume or leaves an unhandled rejection when the store throws', async () => {
    const store = new FlakyStore();
    store.failing = true;
    const limiter = new LeasedRateLimiter({ store, logger: { warn: () => undefined } });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await Promise.all(Array.from({ length: 50 }, () => limiter.consume('k1', LIMIT_20)));
      await limiter.close();
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
