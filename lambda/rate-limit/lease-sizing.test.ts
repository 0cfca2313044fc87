import { expectedRate, leaseSize } from './lease-sizing';

describe('lease sizing', () => {
  const sample = { demand: 0, previousDemand: 0, elapsedMs: 0, sliceMs: 1000 };

  it('asks for one token when nothing is known about demand', () => {
    expect(leaseSize(sample, 50, false)).toBe(1);
  });

  it('covers the demand expected in the rest of the slice, within the cap', () => {
    // 100 requests last slice: 0.1 per ms, 600 ms left.
    expect(leaseSize({ ...sample, previousDemand: 100, elapsedMs: 400 }, 500, false)).toBe(60);
    expect(leaseSize({ ...sample, previousDemand: 100, elapsedMs: 400 }, 20, false)).toBe(20);
  });

  it('reacts to a burst in the current slice at once', () => {
    expect(expectedRate({ ...sample, demand: 300, elapsedMs: 100, previousDemand: 10 })).toBe(3);
  });

  it('does not read a rate into the first moments of a slice', () => {
    // 2 requests in the first millisecond count as 2 per 100 ms, not 2 per ms.
    expect(expectedRate({ ...sample, demand: 2, elapsedMs: 1 })).toBe(0.02);
  });

  it('leases half a slice ahead for the next slice', () => {
    expect(leaseSize({ ...sample, previousDemand: 100, elapsedMs: 950 }, 500, true)).toBe(50);
  });
});
