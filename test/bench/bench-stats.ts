/** Pure statistics for the benchmarks: medians, quantiles and the spread of paired rounds. */

/** The middle value; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * The q-quantile (0 ≤ q ≤ 1) with linear interpolation between closest ranks, the default of R,
 * NumPy and spreadsheets (Hyndman & Fan type 7), so figures can be checked by hand.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of no values: measure at least one round.');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q is ${q}; give a number from 0 to 1.`);
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Rounds needed before an interquartile range says more than max − min does. */
export const MIN_ROUNDS_FOR_IQR = 4;

export interface RatioSummary {
  /** Each round's ratio, in round order. */
  readonly ratios: readonly number[];
  readonly median: number;
  /** max − min of the per-round ratios. */
  readonly spread: number;
  /** Third minus first quartile; undefined below {@link MIN_ROUNDS_FOR_IQR} rounds. */
  readonly iqr: number | undefined;
}

/**
 * Summarises paired rounds (one numerator and one denominator measured back to back) by the ratio
 * of each pair, not the ratio of two medians: a pair shares the machine's state of the moment
 * (another process's burst, a CPU frequency step), so its ratio cancels what both sides suffered.
 */
export function pairedRatios(numerators: readonly number[], denominators: readonly number[]): RatioSummary {
  if (numerators.length !== denominators.length) {
    throw new RangeError(`pairedRatios needs one denominator per numerator; got ${numerators.length} and ${denominators.length}.`);
  }
  const ratios = numerators.map((value, i) => value / denominators[i]);
  return {
    ratios,
    median: median(ratios),
    spread: Math.max(...ratios) - Math.min(...ratios),
    iqr: ratios.length >= MIN_ROUNDS_FOR_IQR ? quantile(ratios, 0.75) - quantile(ratios, 0.25) : undefined,
  };
}

/** The median of per-round differences a[i] − b[i] (e.g. one endpoint's p99 minus the other's). */
export function medianDifference(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`medianDifference needs paired rounds; got ${a.length} and ${b.length}.`);
  return median(a.map((value, i) => value - b[i]));
}

/** Rounds to `digits` decimals, for figures meant to be read. */
export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
