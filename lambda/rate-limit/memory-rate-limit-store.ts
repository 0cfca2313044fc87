/**
 * RateLimitStore in this process's memory: for unit tests of the limiter and for benchmarks. It is not
 * shared, so it limits one instance only; services use DynamoDbRateLimitStore.
 */
import { type CounterState, EMPTY_COUNTER_STATE, type LeaseRequest, type LeaseResult, type RateLimitCounter, type RateLimitStore } from './rate-limit-store';
import { grantFor, staleSlices } from './sliding-window';

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly counters = new Map<string, CounterState>();
  /** Calls made, by kind: tests assert that the hot path stays off the store. */
  readonly calls = { lease: 0, release: 0, record: 0 };

  async lease(request: LeaseRequest): Promise<LeaseResult> {
    this.calls.lease++;
    const id = counterId(request.counter);
    const state = this.counters.get(id) ?? EMPTY_COUNTER_STATE;
    const span = request.counter.slicesPerWindow + 1;
    const granted = grantFor(state.counts, request.slice, request.wanted, request.limit, span);
    if (granted === 0) return { granted, state, contended: false };
    const counts = new Map(state.counts);
    for (const stale of staleSlices(counts, request.slice, span)) counts.delete(stale);
    counts.set(request.slice, (counts.get(request.slice) ?? 0) + granted);
    const next = { version: state.version + 1, counts };
    this.counters.set(id, next);
    return { granted, state: next, contended: false };
  }

  async release(counter: RateLimitCounter, slice: number, count: number): Promise<void> {
    this.calls.release++;
    const state = this.counters.get(counterId(counter));
    const present = state?.counts.get(slice);
    if (!state || present === undefined || present < count) return;
    this.counters.set(counterId(counter), { version: state.version, counts: new Map(state.counts).set(slice, present - count) });
  }

  async record(counter: RateLimitCounter, slice: number, count: number): Promise<void> {
    this.calls.record++;
    const state = this.counters.get(counterId(counter)) ?? EMPTY_COUNTER_STATE;
    const counts = new Map(state.counts).set(slice, (state.counts.get(slice) ?? 0) + count);
    this.counters.set(counterId(counter), { version: state.version + 1, counts });
  }

  /** The counter as stored, for assertions. */
  peek(counter: RateLimitCounter): CounterState {
    return this.counters.get(counterId(counter)) ?? EMPTY_COUNTER_STATE;
  }
}

const counterId = (counter: RateLimitCounter) => `${counter.keyId}#${counter.windowSeconds}#${counter.slicesPerWindow}`;
