/**
 * LeasedRateLimiter on DynamoDB on the emulator, with real clocks and short windows: one instance, two
 * instances racing for one key, the window sliding, hand-backs, store failures and limit changes.
 */
import type { RateLimit } from '../../lambda/keys/key-record';
import { DynamoDbRateLimitStore, LeasedRateLimiter, type RateLimitCounter, type RateLimitDecision } from '../../lambda/rate-limit';
import { createRateLimitTable, type InstanceClient, type RateLimitTable, sum } from './rate-limit-table';

let table: RateLimitTable;
const open: Array<{ limiter: LeasedRateLimiter; client: InstanceClient }> = [];
let keySeq = 0;

beforeAll(async () => {
  table = await createRateLimitTable();
});

afterEach(async () => {
  for (const { limiter, client } of open.splice(0)) {
    await limiter.close();
    client.destroy();
  }
});

afterAll(async () => {
  await table.drop();
});

interface Instance {
  readonly limiter: LeasedRateLimiter;
  readonly client: InstanceClient;
  readonly warnings: string[];
}

/** A service instance: its own DynamoDB client, store and limiter. */
function newInstance(): Instance {
  const client = table.instanceClient();
  const warnings: string[] = [];
  const limiter = new LeasedRateLimiter({
    store: new DynamoDbRateLimitStore(client.documentClient, table.tableName),
    logger: { warn: (message) => warnings.push(message) },
  });
  open.push({ limiter, client });
  return { limiter, client, warnings };
}

const newKey = () => `key-${++keySeq}-${Date.now()}`;
const counterOf = (keyId: string, rateLimit: RateLimit): RateLimitCounter => ({ keyId, windowSeconds: rateLimit.windowSeconds, slicesPerWindow: 10 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const allowedCount = (decisions: RateLimitDecision[]) => decisions.filter((decision) => decision.allowed).length;

async function consumeMany(limiter: LeasedRateLimiter, keyId: string, rateLimit: RateLimit, times: number): Promise<RateLimitDecision[]> {
  const decisions: RateLimitDecision[] = [];
  for (let i = 0; i < times; i++) decisions.push(await limiter.consume(keyId, rateLimit));
  return decisions;
}

/** Waits until the next slice of a `windowSeconds` window (10 slices) starts, so a burst fits in one slice. */
async function atSliceStart(windowSeconds: number): Promise<void> {
  const sliceMs = windowSeconds * 100;
  await sleep(sliceMs - (Date.now() % sliceMs) + 5);
}

describe('one instance', () => {
  const rateLimit: RateLimit = { limit: 30, windowSeconds: 2 };

  it('admits exactly the limit, then denies with remaining 0 and a retry within one window and a slice', async () => {
    const { limiter } = newInstance();
    const keyId = newKey();
    await atSliceStart(rateLimit.windowSeconds);
    const started = Date.now();
    const decisions = await consumeMany(limiter, keyId, rateLimit, 40);
    expect(allowedCount(decisions)).toBe(30);
    expect(decisions.slice(0, 30).every((decision) => decision.allowed)).toBe(true);
    expect(decisions[0]).toMatchObject({ limit: 30, remaining: 29 });
    expect(decisions[29].remaining).toBe(0);
    const denied = decisions[30];
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    // Capacity comes back 2 s (the window) plus at most one 200 ms slice after the burst.
    expect(denied.retryAfterSeconds).toBeGreaterThanOrEqual(2);
    expect(denied.retryAfterSeconds).toBeLessThanOrEqual(3);
    expect(denied.reset * 1000).toBeGreaterThanOrEqual(started + 2000);
    expect(denied.reset * 1000).toBeLessThanOrEqual(started + 3300);
  });

  it('gives capacity back as the window slides', async () => {
    const { limiter } = newInstance();
    const keyId = newKey();
    await atSliceStart(rateLimit.windowSeconds);
    expect(allowedCount(await consumeMany(limiter, keyId, rateLimit, 10))).toBe(10);
    await sleep(1000);
    expect(allowedCount(await consumeMany(limiter, keyId, rateLimit, 30))).toBe(20);
    // 2.2 s after the first burst, its slice has left the window; the second burst's has not.
    await sleep(1300);
    const third = await consumeMany(limiter, keyId, rateLimit, 30);
    expect(allowedCount(third)).toBe(10);
    expect(third[10].retryAfterSeconds).toBeLessThanOrEqual(2);
  });

  it('hands unused leased tokens back when their slice ends', async () => {
    const { limiter } = newInstance();
    const keyId = newKey();
    await atSliceStart(rateLimit.windowSeconds);
    await consumeMany(limiter, keyId, rateLimit, 6);
    await sleep(20);
    const leased = sum((await table.readSlices(counterOf(keyId, rateLimit))).values());
    expect(leased).toBeGreaterThan(6);
    // No further request: the limiter's timer hands the rest back when the slice ends.
    await sleep(400);
    expect(sum((await table.readSlices(counterOf(keyId, rateLimit))).values())).toBe(6);
  });

  it('applies a changed limit at once; a changed window starts a new counter', async () => {
    const { limiter } = newInstance();
    const keyId = newKey();
    const limit10: RateLimit = { limit: 10, windowSeconds: 5 };
    // From a slice's start, so the first burst ends before the limiter leases ahead for the next
    // slice. Tokens the replaced quota leased ahead go back to the store asynchronously, and the new
    // limit's first lease can count them as taken until they land: a CI run that began late in a
    // slice admitted 3 here, not 5 (a gap in the limiter, noted on issue 12).
    await atSliceStart(limit10.windowSeconds);
    expect(allowedCount(await consumeMany(limiter, keyId, limit10, 12))).toBe(10);
    expect(allowedCount(await consumeMany(limiter, keyId, { limit: 15, windowSeconds: 5 }, 10))).toBe(5);
    expect(allowedCount(await consumeMany(limiter, keyId, { limit: 5, windowSeconds: 5 }, 3))).toBe(0);
    expect(allowedCount(await consumeMany(limiter, keyId, { limit: 5, windowSeconds: 6 }, 8))).toBe(5);
  });
});

describe('two instances sharing the table', () => {
  /**
   * Both instances take requests for one key as fast as they can for a little over two windows. Every
   * admission is timestamped; no interval of one window may hold more than the limit, and each full
   * window should admit close to the limit (leasing must not starve).
   */
  it('admit at most the limit in any window together, and not much less', async () => {
    const rateLimit: RateLimit = { limit: 200, windowSeconds: 2 };
    const windowMs = rateLimit.windowSeconds * 1000;
    const maxChunk = Math.ceil(rateLimit.limit / 10);
    const keyId = newKey();
    const instances = [newInstance(), newInstance()];
    const admittedAt: number[][] = [[], []];
    let requests = 0;
    await atSliceStart(rateLimit.windowSeconds);
    const started = Date.now();
    const deadline = started + 2 * windowMs + 400;

    await Promise.all(
      instances.map(async ({ limiter }, i) => {
        while (Date.now() < deadline) {
          const batch = Array.from({ length: 25 }, () => limiter.consume(keyId, rateLimit));
          requests += batch.length;
          for (const pending of batch) {
            const decision = pending instanceof Promise ? await pending : pending;
            if (decision.allowed) admittedAt[i].push(Date.now());
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );

    const all = [...admittedAt[0], ...admittedAt[1]].sort((a, b) => a - b);
    // Timestamps are taken when a decision is seen, a moment after the limiter read its clock; 30 ms of
    // slack for that keeps the check about the limiter, not about event-loop delays.
    const busiest = maxInAnyInterval(all, windowMs - 30);
    const firstWindow = all.filter((at) => at < started + windowMs).length;
    const secondWindow = all.filter((at) => at >= started + windowMs + 200 && at < started + 2 * windowMs + 200).length;
    if (process.env.KEYROLL_REPORT) {
      console.log(JSON.stringify({ requests, admitted: all.length, perInstance: admittedAt.map((a) => a.length), busiest, firstWindow, secondWindow, maxInExactWindow: maxInAnyInterval(all, windowMs) }));
    }
    expect(busiest).toBeLessThanOrEqual(rateLimit.limit);
    expect(firstWindow).toBeGreaterThanOrEqual(rateLimit.limit - 2 * maxChunk);
    expect(secondWindow).toBeGreaterThanOrEqual(rateLimit.limit - 2 * maxChunk);
    expect(admittedAt[0].length).toBeGreaterThan(0);
    expect(admittedAt[1].length).toBeGreaterThan(0);
    expect(requests).toBeGreaterThan(10 * rateLimit.limit);
  });

  /**
   * Requests arrive evenly at 1.5 × the limit in total, so admissions spread over every slice and the
   * window really slides (instead of filling at once and emptying at once).
   */
  it('admit at most the limit in any window under steady overload, and close to it', async () => {
    const rateLimit: RateLimit = { limit: 200, windowSeconds: 2 };
    const windowMs = rateLimit.windowSeconds * 1000;
    const maxChunk = Math.ceil(rateLimit.limit / 10);
    const keyId = newKey();
    const instances = [newInstance(), newInstance()];
    const admittedAt: number[] = [];
    const offeredAt: number[] = [];
    let offered = 0;
    const started = Date.now();
    const tickMs = 5;
    const perInstancePerTick = (0.75 * rateLimit.limit * tickMs) / windowMs;

    await Promise.all(
      instances.map(async ({ limiter }) => {
        let due = 0;
        for (let tick = 1; started + tick * tickMs < started + 3 * windowMs; tick++) {
          // Catch up on ticks the timer ran late for, so the offered rate holds.
          const target = Math.floor(perInstancePerTick * Math.min(tick, (Date.now() - started) / tickMs));
          const batch = Array.from({ length: Math.max(0, target - due) }, () => limiter.consume(keyId, rateLimit));
          due += batch.length;
          offered += batch.length;
          for (let i = 0; i < batch.length; i++) offeredAt.push(Date.now());
          for (const pending of batch) if ((pending instanceof Promise ? await pending : pending).allowed) admittedAt.push(Date.now());
          await sleep(Math.max(0, started + tick * tickMs - Date.now()));
        }
      }),
    );

    admittedAt.sort((a, b) => a - b);
    const busiest = maxInAnyInterval(admittedAt, windowMs - 30);
    // Past the first window, every run of N + 1 slices should be about full (to within leases in flight).
    const sliceMs = windowMs / 10;
    const perSlice = new Map<number, number>();
    for (const at of admittedAt) perSlice.set(Math.floor(at / sliceMs), (perSlice.get(Math.floor(at / sliceMs)) ?? 0) + 1);
    const firstSlice = Math.floor(started / sliceMs);
    const offeredPerSlice = new Map<number, number>();
    for (const at of offeredAt) offeredPerSlice.set(Math.floor(at / sliceMs), (offeredPerSlice.get(Math.floor(at / sliceMs)) ?? 0) + 1);
    const steadyWindows: number[] = [];
    const windowOf = (counts: Map<number, number>, end: number) => sum(Array.from({ length: 11 }, (_, i) => counts.get(end - i) ?? 0));
    for (let end = firstSlice + 15; end < firstSlice + 30; end++) {
      // Only windows where the load really was an overload: on a starved CI machine the load
      // generator itself can fall behind, and then fewer admissions are right, not a leak.
      if (windowOf(offeredPerSlice, end) >= 1.25 * rateLimit.limit) steadyWindows.push(windowOf(perSlice, end));
    }
    if (process.env.KEYROLL_REPORT) {
      console.log(JSON.stringify({ offered, admitted: admittedAt.length, busiest, steadyWindows, maxInExactWindow: maxInAnyInterval(admittedAt, windowMs) }));
    }
    expect(offered).toBeGreaterThan(2.5 * 1.5 * rateLimit.limit);
    expect(busiest).toBeLessThanOrEqual(rateLimit.limit);
    expect(steadyWindows.length).toBeGreaterThanOrEqual(5);
    for (const admitted of steadyWindows) expect(admitted).toBeGreaterThanOrEqual(rateLimit.limit - 2 * maxChunk);
  });

  it('do not strand quota: a quiet instance leaves the window to a busy one', async () => {
    const rateLimit: RateLimit = { limit: 40, windowSeconds: 2 };
    const keyId = newKey();
    const [quiet, busy] = [newInstance(), newInstance()];
    await atSliceStart(rateLimit.windowSeconds);
    // The quiet instance serves a few requests (leasing a little ahead), then no more.
    expect(allowedCount(await consumeMany(quiet.limiter, keyId, rateLimit, 3))).toBe(3);
    // After its slice ended its unused tokens went back, so the busy one gets everything else.
    await sleep(300);
    expect(allowedCount(await consumeMany(busy.limiter, keyId, rateLimit, 60))).toBe(37);
  });
});

describe('store failures', () => {
  const rateLimit: RateLimit = { limit: 20, windowSeconds: 2 };

  it('fall back to counting in each instance, warn once, and record local admissions once the store is back', async () => {
    const keyId = newKey();
    const [a, b] = [newInstance(), newInstance()];
    a.client.faults.failing = true;
    b.client.faults.failing = true;
    await atSliceStart(rateLimit.windowSeconds);
    const duringOutage = [await consumeMany(a.limiter, keyId, rateLimit, 30), await consumeMany(b.limiter, keyId, rateLimit, 30)];
    // No request fails; each instance enforces the limit on its own: the bound is instances × limit.
    expect(duringOutage.map(allowedCount)).toEqual([20, 20]);
    expect(duringOutage[0][20]).toMatchObject({ allowed: false, remaining: 0 });
    expect(duringOutage[0][20].retryAfterSeconds).toBeGreaterThanOrEqual(2);
    expect(a.warnings).toHaveLength(1);
    expect(a.warnings[0]).toMatch(/falls? back|on its own/);

    a.client.faults.failing = false;
    b.client.faults.failing = false;
    await sleep(250);
    // Next slice: each instance probes the store in the background, recording what it admitted alone.
    await a.limiter.consume(keyId, rateLimit);
    await b.limiter.consume(keyId, rateLimit);
    await sleep(100);
    expect(sum((await table.readSlices(counterOf(keyId, rateLimit))).values())).toBe(40);
    // The store now knows the window is (over)full, so both instances deny until it slides.
    expect(allowedCount(await consumeMany(a.limiter, keyId, rateLimit, 5))).toBe(0);
    expect(allowedCount(await consumeMany(b.limiter, keyId, rateLimit, 5))).toBe(0);
  });

  it('keep deciding synchronously while the store is down, without waiting on it for every request', async () => {
    const keyId = newKey();
    const { limiter, client } = newInstance();
    client.faults.failing = true;
    await limiter.consume(keyId, rateLimit);
    const decisions = Array.from({ length: 10 }, () => limiter.consume(keyId, rateLimit));
    // Once one call failed, other keys do not wait on the store either.
    decisions.push(limiter.consume(newKey(), rateLimit));
    expect(decisions.every((decision) => !(decision instanceof Promise))).toBe(true);
    expect(allowedCount(decisions as RateLimitDecision[])).toBe(11);
  });
});

/** The most timestamps inside any half-open interval of `lengthMs`. */
function maxInAnyInterval(sorted: number[], lengthMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= lengthMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
