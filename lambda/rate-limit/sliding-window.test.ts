import fc from 'fast-check';
import {
  firstSliceWithRoom,
  grantFor,
  peakWindowSum,
  resetSlice,
  type SliceGeometry,
  sliceIndex,
  sliceStartMs,
  staleSlices,
  windowSpan,
  windowSum,
} from './sliding-window';

const counts = (entries: Record<number, number>) => new Map(Object.entries(entries).map(([k, v]) => [Number(k), v]));

describe('slice geometry', () => {
  const geometry: SliceGeometry = { windowMs: 60_000, slicesPerWindow: 10 };

  it('numbers slices from the epoch so every instance agrees on boundaries', () => {
    expect(sliceIndex(0, geometry)).toBe(0);
    expect(sliceIndex(5_999, geometry)).toBe(0);
    expect(sliceIndex(6_000, geometry)).toBe(1);
    expect(sliceStartMs(1, geometry)).toBe(6_000);
  });

  it('puts every slice start inside its own slice, even when W/N is not a whole number of ms', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 2_000_000_000_000 }),
        (windowSeconds, slicesPerWindow, nowMs) => {
          const g = { windowMs: windowSeconds * 1000, slicesPerWindow };
          const slice = sliceIndex(nowMs, g);
          expect(sliceStartMs(slice, g)).toBeLessThanOrEqual(nowMs);
          expect(sliceStartMs(slice + 1, g)).toBeGreaterThan(nowMs);
          expect(sliceIndex(sliceStartMs(slice, g), g)).toBe(slice);
        },
      ),
    );
  });

  it('spans N + 1 slices, enough to cover any interval of length W', () => {
    expect(windowSpan(geometry)).toBe(11);
  });
});

describe('window sums and grants', () => {
  it('sums the span slices ending at a slice', () => {
    expect(windowSum(counts({ 1: 2, 2: 3, 5: 7 }), 4, 3)).toBe(3);
    expect(windowSum(counts({ 1: 2, 2: 3, 5: 7 }), 5, 3)).toBe(7);
  });

  it('counts a pre-leased later slice against the current one', () => {
    // Window of 3 slices: slice 10 belongs to windows ending at 10, 11 and 12; 12 holds 5 already.
    const state = counts({ 9: 4, 12: 5 });
    expect(peakWindowSum(state, 10, 3)).toBe(5);
    expect(grantFor(state, 10, 10, 8, 3)).toBe(3);
  });

  it('grants nothing once the window is full, and never more than asked', () => {
    expect(grantFor(counts({ 3: 5 }), 4, 1, 5, 3)).toBe(0);
    expect(grantFor(counts({}), 4, 2, 5, 3)).toBe(2);
  });

  it('finds the slice where room for one request comes back', () => {
    const state = counts({ 4: 3, 5: 2 });
    // Limit 5 over 3 slices: slice 4 leaves the window at 7; windows containing 7 then hold 2 < 5.
    expect(firstSliceWithRoom(state, 5, 5, 3)).toBe(7);
    expect(firstSliceWithRoom(state, 5, 0, 3)).toBeUndefined();
  });

  it('resets when the oldest non-empty slice leaves the window', () => {
    expect(resetSlice(counts({ 4: 3, 5: 2 }), 5, 3)).toBe(7);
    expect(resetSlice(counts({}), 5, 3)).toBe(6);
  });

  it('drops only slices two spans behind', () => {
    expect(staleSlices(counts({ 1: 1, 3: 1, 4: 1, 9: 1 }), 10, 3).sort()).toEqual([1, 3]);
  });
});

/**
 * Several instances lease from one counter with optimistic versions, each from its own (often stale)
 * view and its own clock, use tokens only inside the slice they were leased for, and hand back the rest
 * whenever they get to it. Whatever the interleaving, no run of `span` slices admits more than the limit.
 */
describe('leasing protocol (property)', () => {
  type Op =
    | { kind: 'tick' }
    | { kind: 'lease'; instance: number; ahead: number; wanted: number }
    | { kind: 'use'; instance: number; count: number }
    | { kind: 'handBack'; instance: number };

  const op = (instances: number): fc.Arbitrary<Op> =>
    fc.oneof(
      { arbitrary: fc.constant<Op>({ kind: 'tick' }), weight: 1 },
      {
        arbitrary: fc.record({ kind: fc.constant('lease' as const), instance: fc.nat(instances - 1), ahead: fc.nat(1), wanted: fc.integer({ min: 1, max: 6 }) }),
        weight: 4,
      },
      { arbitrary: fc.record({ kind: fc.constant('use' as const), instance: fc.nat(instances - 1), count: fc.integer({ min: 1, max: 6 }) }), weight: 3 },
      { arbitrary: fc.record({ kind: fc.constant('handBack' as const), instance: fc.nat(instances - 1) }), weight: 1 },
    );

  const scenario = fc
    .record({
      limit: fc.integer({ min: 1, max: 12 }),
      slicesPerWindow: fc.integer({ min: 1, max: 6 }),
      instances: fc.integer({ min: 2, max: 4 }),
    })
    .chain((setup) =>
      fc.record({
        setup: fc.constant(setup),
        // Clocks may lag by up to one span; removal keeps two spans, so lagging leasers still see their windows.
        lags: fc.array(fc.nat(setup.slicesPerWindow + 1), { minLength: setup.instances, maxLength: setup.instances }),
        ops: fc.array(op(setup.instances), { minLength: 20, maxLength: 200, size: 'max' }),
      }),
    );

  it('never lets a window of N + 1 slices admit more than the limit', () => {
    fc.assert(
      fc.property(scenario, ({ setup, lags, ops }) => {
        const { limit, slicesPerWindow } = setup;
        const span = slicesPerWindow + 1;
        let time = 3 * span;
        let store = { version: 0, counts: new Map<number, number>() };
        const admitted = new Map<number, number>();
        const instances = lags.map((lag) => ({ lag, view: store, leases: new Map<number, { granted: number; used: number; handedBack: boolean }>() }));

        for (const step of ops) {
          if (step.kind === 'tick') {
            time++;
            continue;
          }
          const instance = instances[step.instance];
          const now = time - instance.lag;
          if (step.kind === 'lease') {
            const slice = now + step.ahead;
            const granted = grantFor(instance.view.counts, slice, step.wanted, limit, span);
            // A conflicting version or a full window: the instance re-reads (as the store does) and tries later.
            if (granted === 0 || instance.view.version !== store.version) {
              instance.view = store;
              continue;
            }
            const next = new Map(store.counts);
            for (const stale of staleSlices(instance.view.counts, slice, span)) next.delete(stale);
            next.set(slice, (next.get(slice) ?? 0) + granted);
            store = { version: store.version + 1, counts: next };
            instance.view = store;
            const lease = instance.leases.get(slice) ?? { granted: 0, used: 0, handedBack: false };
            lease.granted += granted;
            instance.leases.set(slice, lease);
          } else if (step.kind === 'use') {
            const lease = instance.leases.get(now);
            if (!lease || lease.handedBack) continue;
            const used = Math.min(step.count, lease.granted - lease.used);
            lease.used += used;
            admitted.set(now, (admitted.get(now) ?? 0) + used);
            // Only the windows holding slice `now` changed.
            for (let end = now; end < now + span; end++) {
              const inWindow = windowSum(admitted, end, span);
              if (inWindow > limit) throw new Error(`slices ${end - span + 1}..${end} admitted ${inWindow} > limit ${limit}`);
            }
          } else {
            for (const [slice, lease] of instance.leases) {
              if (slice >= now || lease.handedBack) continue;
              lease.handedBack = true;
              const unused = lease.granted - lease.used;
              const present = store.counts.get(slice);
              // Conditional hand-back: a slice already dropped is left alone, never driven negative.
              if (unused > 0 && present !== undefined && present >= unused) {
                store = { version: store.version, counts: new Map(store.counts).set(slice, present - unused) };
              }
            }
          }
          for (const count of store.counts.values()) if (count < 0) throw new Error(`negative count ${count}`);
        }
      }),
      { numRuns: 400 },
    );
  });
});
