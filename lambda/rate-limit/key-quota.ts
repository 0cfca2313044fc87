/**
 * One key's rate-limit state in one instance: tokens leased for the current (and next) slice, its own
 * admissions per slice, and the decisions they give. Synchronous and free of I/O: the limiter does the leasing.
 */
import type { RateLimit } from '../keys/key-record';
import { invalidRateLimit } from './errors';
import { leaseSize } from './lease-sizing';
import type { RateLimitDecision } from './rate-limiter';
import { type CounterState, EMPTY_COUNTER_STATE, type LeaseResult, type RateLimitCounter } from './rate-limit-store';
import {
  firstSliceWithRoom,
  highestSlice,
  peakWindowSum,
  resetSlice,
  type SliceGeometry,
  sliceIndex,
  type SliceCounts,
  sliceStartMs,
  windowSpan,
} from './sliding-window';

/** Receives tokens leased for a slice this instance will not use any more. */
export type HandBack = (counter: RateLimitCounter, slice: number, count: number) => void;

/** After losing every optimistic write to other instances, wait this long before trying again. */
const CONTENDED_BACKOFF_MS = 20;
/** How much the chunk grows after a lease that demand used in full. */
const CHUNK_GROWTH = 4;
/** Prefetch the next slice's lease when this share of the current slice is left. */
const NEXT_SLICE_PREFETCH_SHARE = 0.1;

export class KeyQuota {
  readonly keyId: string;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly windowMs: number;
  readonly counter: RateLimitCounter;
  private readonly geometry: SliceGeometry;
  private readonly span: number;
  /** The limit's share of one slice (limit / N): big enough for few round trips, small enough not to strand much quota. */
  private readonly maxChunk: number;

  slice: number;
  sliceStartMs = 0;
  sliceEndMs = 0;
  /** From here on a lease for the next slice is fetched ahead, so the boundary does not stall requests. */
  prefetchAtMs = 0;
  private sliceSlot = 0;

  /** Leased for `slice` and not used yet; usable only while the clock is inside `slice`. */
  tokens = 0;
  /** Leased ahead for `slice + 1`. */
  nextTokens = 0;
  nextSliceLeaseTried = false;
  /**
   * Most tokens one lease asks for: grows to four times the last lease each time one at least this
   * size is granted in full (demand outruns it), restarts from the last slice's demand, never above `maxChunk`.
   */
  chunk = 1;
  /** Requests seen in this slice, admitted or not (counted by `noteDemand`). */
  demand = 0;
  /** When this slice's first request came. */
  private firstDemandMs = 0;
  private previousDemand = 0;
  /** Size of the last lease asked for this slice; a new one is fetched ahead when half of that is left. */
  lastWanted = 0;
  /** No lease before this moment: the window was full or the counter contended. */
  nextLeaseAtMs = 0;
  inFlight: Promise<void> | undefined = undefined;
  /** Requests waiting for that lease; the next lease asks for at least as many, so a burst is not starved. */
  waiters = 0;
  /** The store failed: admissions are counted locally, and the store is probed again from the next slice. */
  degraded = false;
  probedSlice = -1;
  lastSeenMs: number;
  /** Replaced (limit changed, evicted, limiter closed): late lease results are handed straight back. */
  retired = false;

  private counterState: CounterState = EMPTY_COUNTER_STATE;
  /** Cached from `counterState` at `slice`, so an admission reads fields instead of summing windows. */
  private headroom = 0;
  private resetSeconds = 0;
  private roomAtMs = 0;
  /** This instance's admissions for the last `span` slices, by `slice % span`. */
  private readonly admitted: number[];
  /** Of those, the ones admitted without a lease while degraded, not yet recorded in the store. */
  private readonly unrecorded: number[];

  constructor(keyId: string, rateLimit: RateLimit, slicesPerWindow: number, nowMs: number) {
    const { limit, windowSeconds } = rateLimit;
    if (!Number.isInteger(limit) || limit < 0 || !(windowSeconds > 0) || windowSeconds * 1000 < slicesPerWindow) {
      throw invalidRateLimit(keyId, limit, windowSeconds);
    }
    this.keyId = keyId;
    this.limit = limit;
    this.windowSeconds = windowSeconds;
    this.windowMs = windowSeconds * 1000;
    this.counter = { keyId, windowSeconds, slicesPerWindow };
    this.geometry = { windowMs: this.windowMs, slicesPerWindow };
    this.span = windowSpan(this.geometry);
    this.maxChunk = Math.max(1, Math.ceil(limit / slicesPerWindow));
    this.admitted = new Array<number>(this.span).fill(0);
    this.unrecorded = new Array<number>(this.span).fill(0);
    this.lastSeenMs = nowMs;
    this.slice = sliceIndex(nowMs, this.geometry);
    this.enterSlice();
  }

  /** Moves to the slice holding `nowMs` (never backwards); tokens of slices left behind are handed back. */
  advance(nowMs: number, handBack: HandBack): void {
    const slice = sliceIndex(nowMs, this.geometry);
    if (slice <= this.slice) return;
    const contiguous = slice === this.slice + 1;
    if (this.tokens > 0) this.handBackOwn(handBack, this.slice, this.tokens);
    this.tokens = 0;
    if (this.nextTokens > 0) {
      if (contiguous) this.tokens = this.nextTokens;
      else this.handBackOwn(handBack, this.slice + 1, this.nextTokens);
    }
    this.nextTokens = 0;
    this.nextSliceLeaseTried = false;
    for (let cleared = this.slice + 1; cleared <= slice && cleared <= this.slice + this.span; cleared++) {
      this.admitted[cleared % this.span] = 0;
      this.unrecorded[cleared % this.span] = 0;
    }
    this.previousDemand = contiguous ? this.demand : 0;
    this.chunk = Math.min(this.maxChunk, Math.max(1, this.previousDemand));
    this.demand = 0;
    // Tokens leased ahead count as the last lease: more are fetched when half of them are used.
    this.lastWanted = this.tokens;
    this.slice = slice;
    this.enterSlice();
  }

  /** Tokens to ask for now, for this slice or (near its end) the next. */
  leaseSize(nowMs: number, forNextSlice: boolean): number {
    const sample = {
      demand: this.demand,
      previousDemand: this.previousDemand,
      // A key idle in the slice before was busy only since its first request here: counting the
      // idle part of the slice as well would make a burst after idle look slow, and its leases
      // would grow by a few tokens per store round trip while every request waits on them.
      elapsedMs: nowMs - (this.previousDemand > 0 ? this.sliceStartMs : this.firstDemandMs),
      sliceMs: this.sliceEndMs - this.sliceStartMs,
    };
    // Waiting requests use their tokens at once, so they may take more than a chunk.
    const wanted = Math.max(leaseSize(sample, this.chunk, forNextSlice), this.waiters);
    if (!forNextSlice) this.lastWanted = wanted;
    return wanted;
  }

  /** Counts a request toward this slice's demand, admitted or not. */
  noteDemand(nowMs: number): void {
    if (this.demand++ === 0) this.firstDemandMs = nowMs;
  }

  /** Takes one leased token; the caller has checked `tokens > 0`. */
  admit(): void {
    this.tokens--;
    this.admitted[this.sliceSlot]++;
  }

  allowed(): RateLimitDecision {
    return { allowed: true, limit: this.limit, remaining: this.headroom + this.tokens, reset: this.resetSeconds };
  }

  denied(nowMs: number): RateLimitDecision {
    return this.denial(nowMs, this.roomAtMs, this.resetSeconds);
  }

  /** Admits one request against this instance's own count (degraded), as if it were the only instance. */
  admitLocally(): boolean {
    if (this.localWindowSum() >= this.limit) return false;
    this.admitted[this.sliceSlot]++;
    this.unrecorded[this.sliceSlot]++;
    return true;
  }

  allowedLocally(): RateLimitDecision {
    const local = this.localCounts();
    return {
      allowed: true,
      limit: this.limit,
      remaining: Math.max(0, this.limit - this.localWindowSum()),
      reset: this.secondsAt(resetSlice(local, this.slice, this.span)),
    };
  }

  deniedLocally(nowMs: number): RateLimitDecision {
    const local = this.localCounts();
    const room = firstSliceWithRoom(local, this.slice, this.limit, this.span) ?? this.slice + this.span;
    return this.denial(nowMs, sliceStartMs(room, this.geometry), this.secondsAt(resetSlice(local, this.slice, this.span)));
  }

  /** Takes in a lease result for `slice` (asked for `wanted`); tokens for a slice already over are handed back. */
  applyLease(slice: number, wanted: number, result: LeaseResult, nowMs: number, fullRecheckMs: number, handBack: HandBack): void {
    this.counterState = result.state;
    this.degraded = false;
    const { granted } = result;
    if (slice === this.slice) this.tokens += granted;
    else if (slice === this.slice + 1) this.nextTokens += granted;
    else if (granted > 0) this.handBackOwn(handBack, slice, granted);
    this.refreshView();
    if (granted === 0) {
      // Another instance may hand quota back before the slice ends, so look again after a while.
      this.nextLeaseAtMs = result.contended
        ? nowMs + CONTENDED_BACKOFF_MS
        : Math.min(nowMs + fullRecheckMs, Math.max(nowMs, this.roomAtMs));
    } else if (slice === this.slice && granted === wanted && wanted >= this.chunk) {
      // Demand used the whole chunk: the next may be four times what was just asked (requests
      // waiting may have asked for more than the chunk). In the limiter's burst test, 32 clients
      // wait on 5 store round trips; doubling, 7. What a lease may strand stays bounded by the
      // demand estimate and maxChunk, not by this growth.
      this.chunk = Math.min(this.maxChunk, wanted * CHUNK_GROWTH);
    }
  }

  /** The counter as the store last showed it, so the next lease can skip a read. */
  known(): CounterState {
    return this.counterState;
  }

  markDegraded(): void {
    this.degraded = true;
    this.probedSlice = this.slice;
  }

  /** Degraded admissions still to record, as [slice, count] pairs; they are cleared until `restoreUnrecorded`. */
  takeUnrecorded(): Array<[number, number]> {
    const taken: Array<[number, number]> = [];
    for (let slice = this.slice - this.span + 1; slice <= this.slice; slice++) {
      const count = this.unrecorded[slice % this.span];
      if (count > 0) {
        taken.push([slice, count]);
        this.unrecorded[slice % this.span] = 0;
      }
    }
    return taken;
  }

  restoreUnrecorded(entries: ReadonlyArray<readonly [number, number]>): void {
    for (const [slice, count] of entries) if (slice > this.slice - this.span) this.unrecorded[slice % this.span] += count;
  }

  /** Hands back every leased token (retiring the quota). */
  drain(handBack: HandBack): void {
    if (this.tokens > 0) handBack(this.counter, this.slice, this.tokens);
    if (this.nextTokens > 0) handBack(this.counter, this.slice + 1, this.nextTokens);
    this.tokens = 0;
    this.nextTokens = 0;
  }

  /** TTL of the store's counter: two windows past the end of `slice`. */
  expiresAtSeconds(slice: number): number {
    return Math.ceil(sliceStartMs(slice + 1, this.geometry) / 1000) + 2 * this.windowSeconds;
  }

  private enterSlice(): void {
    this.sliceStartMs = sliceStartMs(this.slice, this.geometry);
    this.sliceEndMs = sliceStartMs(this.slice + 1, this.geometry);
    this.prefetchAtMs = this.sliceEndMs - Math.max(1, Math.floor((this.sliceEndMs - this.sliceStartMs) * NEXT_SLICE_PREFETCH_SHARE));
    this.sliceSlot = this.slice % this.span;
    this.refreshView();
  }

  /**
   * Remaining = limit minus the fullest window the store knows of, not counting this instance's unused
   * tokens as taken: those of the next slice are left out of its count here, and those of this slice
   * are added back per decision (`headroom + tokens`). Otherwise remaining would drop by the next
   * slice's lease-ahead near a slice's end and jump back up at the boundary. Room = where the store's
   * own fullest window first drops below the limit.
   */
  private refreshView(): void {
    const counts = this.counterState.counts;
    const highest = highestSlice(counts, this.slice);
    this.headroom = Math.max(0, this.limit - peakWindowSum(this.countsWithoutNextTokens(counts), this.slice, this.span, highest));
    this.resetSeconds = this.secondsAt(resetSlice(counts, this.slice, this.span));
    this.roomAtMs =
      this.headroom > 0 ? 0 : sliceStartMs(firstSliceWithRoom(counts, this.slice, this.limit, this.span) ?? this.slice + this.span, this.geometry);
  }

  /**
   * Hands tokens back and counts them as gone in the known state at once, rather than only after the
   * next lease re-reads the counter: remaining would otherwise drop by them until then (a slice's unused
   * tokens stay in every window of the next one). The version stays, as the store's release keeps it,
   * and a lease computed before the release lands still cannot admit over the limit once it has.
   */
  private handBackOwn(handBack: HandBack, slice: number, count: number): void {
    handBack(this.counter, slice, count);
    const present = this.counterState.counts.get(slice);
    if (present === undefined) return;
    this.counterState = { version: this.counterState.version, counts: new Map(this.counterState.counts).set(slice, Math.max(0, present - count)) };
  }

  /** Every window counted here contains this slice, so leaving out the next slice's tokens is exact. */
  private countsWithoutNextTokens(counts: SliceCounts): SliceCounts {
    if (this.nextTokens === 0) return counts;
    const next = this.slice + 1;
    return new Map(counts).set(next, (counts.get(next) ?? 0) - this.nextTokens);
  }

  private denial(nowMs: number, roomAtMs: number, resetSeconds: number): RateLimitDecision {
    return {
      allowed: false,
      limit: this.limit,
      remaining: 0,
      reset: Math.max(resetSeconds, Math.ceil(roomAtMs / 1000)),
      retryAfterSeconds: Math.max(1, Math.ceil((roomAtMs - nowMs) / 1000)),
    };
  }

  private localWindowSum(): number {
    let sum = 0;
    for (let slot = 0; slot < this.span; slot++) sum += this.admitted[slot];
    return sum;
  }

  private localCounts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (let slice = this.slice - this.span + 1; slice <= this.slice; slice++) {
      const count = this.admitted[slice % this.span];
      if (count > 0) counts.set(slice, count);
    }
    return counts;
  }

  private secondsAt(slice: number): number {
    return Math.ceil(sliceStartMs(slice, this.geometry) / 1000);
  }
}
