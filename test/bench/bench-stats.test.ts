import { median, medianDifference, pairedRatios, quantile, roundTo } from './bench-stats';

describe('median and quantile', () => {
  it('takes the middle value of an odd count and the mean of the middle two of an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('interpolates between closest ranks (type 7), as NumPy does', () => {
    // numpy.quantile([1, 2, 3, 4, 5, 6, 7], [0.25, 0.75]) → [2.5, 5.5]
    expect(quantile([7, 1, 2, 3, 4, 5, 6], 0.25)).toBe(2.5);
    expect(quantile([7, 1, 2, 3, 4, 5, 6], 0.75)).toBe(5.5);
    expect(quantile([10, 20], 0.25)).toBe(12.5);
    expect(quantile([5], 0.99)).toBe(5);
  });

  it('does not reorder the caller’s array', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('refuses no values and a q outside 0..1, saying what to give', () => {
    expect(() => median([])).toThrow(/at least one round/);
    expect(() => quantile([1], 1.5)).toThrow(/from 0 to 1/);
  });
});

describe('pairedRatios', () => {
  it('summarises the ratio of each pair, not the ratio of the medians', () => {
    // Medians 20 / 20 would say 1.0; every pair says 0.5 or 2, and their median is what was measured.
    const summary = pairedRatios([10, 40, 10], [20, 20, 20]);
    expect(summary.ratios).toEqual([0.5, 2, 0.5]);
    expect(summary.median).toBe(0.5);
    expect(summary.spread).toBe(1.5);
  });

  it('gives an interquartile range from 4 rounds on, and none below', () => {
    expect(pairedRatios([9, 8, 7], [10, 10, 10]).iqr).toBeUndefined();
    const summary = pairedRatios([90, 80, 70, 60, 50], [100, 100, 100, 100, 100]);
    expect(summary.median).toBeCloseTo(0.7);
    expect(summary.iqr).toBeCloseTo(0.2); // quartiles 0.6 and 0.8
    expect(summary.spread).toBeCloseTo(0.4);
  });

  it('refuses unpaired rounds', () => {
    expect(() => pairedRatios([1, 2], [1])).toThrow(/one denominator per numerator/);
  });
});

describe('medianDifference and roundTo', () => {
  it('takes the median of per-round differences', () => {
    expect(medianDifference([3, 10, 4], [1, 1, 1])).toBe(3);
    expect(() => medianDifference([1], [])).toThrow(/paired rounds/);
  });

  it('rounds to the given decimals', () => {
    expect(roundTo(0.87654, 3)).toBe(0.877);
    expect(roundTo(12.5, 0)).toBe(13);
  });
});
