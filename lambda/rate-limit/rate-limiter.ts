/** The rate-limiting port the request path uses: one call per request, synchronous when it can be. */
import type { RateLimit } from '../keys/key-record';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** The key's limit per window (X-RateLimit-Limit). */
  readonly limit: number;
  /** Requests still allowed in the current sliding window, as far as this instance knows (X-RateLimit-Remaining). */
  readonly remaining: number;
  /** Unix seconds at which capacity next frees up (X-RateLimit-Reset). */
  readonly reset: number;
  /** Whole seconds to wait before retrying (Retry-After); set when not allowed. */
  readonly retryAfterSeconds?: number;
}

export interface RateLimiter {
  /**
   * Takes one request from the key's budget. Returns a plain decision (no promise) whenever quota
   * already leased by this instance suffices, so the hot path does no I/O.
   */
  consume(keyId: string, rateLimit: RateLimit, nowMs?: number): RateLimitDecision | Promise<RateLimitDecision>;
  /** Hands unused leased quota back to the store and stops background work. */
  close(): Promise<void>;
}
