/** The port to the shared quota counter that every service instance leases rate-limit tokens from. */

/** One shared counter: a key under one window configuration. */
export interface RateLimitCounter {
  readonly keyId: string;
  readonly windowSeconds: number;
  readonly slicesPerWindow: number;
}

/** What an instance knows of a counter: tokens leased per slice (used or not yet handed back) and the write version. */
export interface CounterState {
  /** 0 when the counter has never been written (or this instance has not read it yet). */
  readonly version: number;
  readonly counts: ReadonlyMap<number, number>;
}

export const EMPTY_COUNTER_STATE: CounterState = { version: 0, counts: new Map() };

export interface LeaseRequest {
  readonly counter: RateLimitCounter;
  readonly slice: number;
  /** Tokens asked for; the grant may be smaller, down to 0 when the window is full. */
  readonly wanted: number;
  readonly limit: number;
  /** Last state this instance saw, to skip a read when nobody else wrote since. @default EMPTY_COUNTER_STATE */
  readonly known?: CounterState;
  /** Epoch seconds after which the counter may be deleted (DynamoDB TTL). */
  readonly expiresAtSeconds: number;
}

export interface LeaseResult {
  readonly granted: number;
  /** The counter as written (or last read); the instance computes remaining and reset from it. */
  readonly state: CounterState;
  /** True when the grant is 0 because other writers kept winning the race, not because the window is full. */
  readonly contended: boolean;
}

export interface RateLimitStore {
  /**
   * Adds up to `wanted` tokens to `slice` such that no window of slices containing it exceeds `limit`.
   * Rejects only when the store cannot be reached or fails; a full window is a 0 grant.
   */
  lease(request: LeaseRequest): Promise<LeaseResult>;
  /** Hands back tokens leased for `slice` that were never used. A no-op when the slice is already gone. */
  release(counter: RateLimitCounter, slice: number, count: number): Promise<void>;
  /** Adds requests admitted without a lease (while the store was failing), so other instances see them. */
  record(counter: RateLimitCounter, slice: number, count: number, expiresAtSeconds: number): Promise<void>;
}
