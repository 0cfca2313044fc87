/** Pure slice arithmetic of the sliding-window limit: slice of a moment, window sums, grants, reset and retry times. */

/**
 * A window of `windowMs` cut into `slicesPerWindow` slices. Slice `j` covers
 * `[sliceStartMs(j), sliceStartMs(j + 1))` on the epoch clock, so every instance numbers slices alike.
 */
export interface SliceGeometry {
  readonly windowMs: number;
  readonly slicesPerWindow: number;
}

/** Requests counted per slice index; absent means 0. A `Map<number, number>` fits. */
export type SliceCounts = ReadonlyMap<number, number>;

export const MAX_SLICES_PER_WINDOW = 1000;

/**
 * How many consecutive slices one limit applies to: the N slices of the window plus one, because any
 * interval of length W starting mid-slice touches N + 1 slices. Capping every run of N + 1 slices at the
 * limit is what makes "at most `limit` in any interval of length W" hold exactly, at the price of capacity
 * coming back up to one slice later than an exact sliding log would give it back.
 */
export function windowSpan(geometry: SliceGeometry): number {
  return geometry.slicesPerWindow + 1;
}

/** Integer arithmetic (instead of a fractional slice length) keeps every instance on the same boundaries. */
export function sliceIndex(nowMs: number, geometry: SliceGeometry): number {
  return Math.floor((nowMs * geometry.slicesPerWindow) / geometry.windowMs);
}

export function sliceStartMs(slice: number, geometry: SliceGeometry): number {
  return Math.ceil((slice * geometry.windowMs) / geometry.slicesPerWindow);
}

export function highestSlice(counts: SliceCounts, atLeast: number): number {
  let highest = atLeast;
  for (const slice of counts.keys()) if (slice > highest) highest = slice;
  return highest;
}

/** Sum of the `span` slices ending at `end`; negative counts (never written, but defensive) count as 0. */
export function windowSum(counts: SliceCounts, end: number, span: number): number {
  let sum = 0;
  for (let slice = end - span + 1; slice <= end; slice++) {
    const count = counts.get(slice);
    if (count !== undefined && count > 0) sum += count;
  }
  return sum;
}

/**
 * The fullest window that contains `slice`. Windows ending after `slice` matter when some instance has
 * already leased a later slice (pre-leasing the next one, or a clock ahead of ours); windows ending after
 * the highest slice present only lose slices, so the scan stops there.
 */
export function peakWindowSum(counts: SliceCounts, slice: number, span: number, highest = highestSlice(counts, slice)): number {
  const lastEnd = Math.min(slice + span - 1, Math.max(highest, slice));
  let peak = 0;
  for (let end = slice; end <= lastEnd; end++) {
    const sum = windowSum(counts, end, span);
    if (sum > peak) peak = sum;
  }
  return peak;
}

/** Tokens that may be added to `slice` without any window of `span` slices exceeding `limit`. */
export function grantFor(counts: SliceCounts, slice: number, wanted: number, limit: number, span: number): number {
  return Math.max(0, Math.min(wanted, limit - peakWindowSum(counts, slice, span)));
}

/** The first slice after `slice` that has room for one request if counts stay as they are; undefined if none ever will. */
export function firstSliceWithRoom(counts: SliceCounts, slice: number, limit: number, span: number): number | undefined {
  if (limit < 1) return undefined;
  const highest = highestSlice(counts, slice);
  // Past `highest + span` every window is empty, so the loop always ends by then.
  for (let candidate = slice + 1; candidate <= highest + span; candidate++) {
    if (peakWindowSum(counts, candidate, span, highest) < limit) return candidate;
  }
  return highest + span;
}

/** The slice at whose start the oldest non-empty slice of the window ending at `slice` leaves it (`slice + 1` if empty). */
export function resetSlice(counts: SliceCounts, slice: number, span: number): number {
  for (let oldest = slice - span + 1; oldest <= slice; oldest++) {
    const count = counts.get(oldest);
    if (count !== undefined && count > 0) return oldest + span;
  }
  return slice + 1;
}

/**
 * Slices old enough to drop from a shared counter while leasing `slice`. Two spans back, not one: an
 * instance whose clock lags a little still sums the windows that end a slice or so earlier.
 */
export function staleSlices(counts: SliceCounts, slice: number, span: number): number[] {
  const stale: number[] = [];
  for (const present of counts.keys()) if (present < slice - 2 * span) stale.push(present);
  return stale;
}
