/** How many tokens one lease asks for: the demand expected before the tokens expire, within a growth cap. */

export interface DemandSample {
  /** Requests seen so far in the current slice, admitted or not. */
  readonly demand: number;
  /** Requests seen in the slice before, 0 if this instance saw none. */
  readonly previousDemand: number;
  /** Time over which `demand` was seen: since the slice started, or since its first request when the slice before saw none. */
  readonly elapsedMs: number;
  readonly sliceMs: number;
}

/** A slice's first moments say little about its rate, so the elapsed time is counted as at least this share. */
const MIN_ELAPSED_SHARE = 0.1;

/** Requests per millisecond: the busier of the last slice and the current one so far, so a burst shows at once. */
export function expectedRate(sample: DemandSample): number {
  const current = sample.demand / Math.max(sample.elapsedMs, sample.sliceMs * MIN_ELAPSED_SHARE);
  return Math.max(sample.previousDemand / sample.sliceMs, current);
}

/**
 * Tokens left unused at the end of a slice are counted against every other instance until they are
 * handed back, so a lease covers only the rest of the current slice (or the first half of the next one),
 * never more than `cap`, which grows only as leases get used up.
 */
export function leaseSize(sample: DemandSample, cap: number, forNextSlice: boolean): number {
  const horizonMs = forNextSlice ? sample.sliceMs / 2 : Math.max(0, sample.sliceMs - sample.elapsedMs);
  return Math.min(cap, Math.max(1, Math.ceil(expectedRate(sample) * horizonMs)));
}
