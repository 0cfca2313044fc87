/** Per-key sliding-window rate limiting, shared across instances through leased quota. */
export type { RateLimitDecision, RateLimiter } from './rate-limiter';
export { LeasedRateLimiter, type LeasedRateLimiterOptions, type RateLimitLogger } from './leased-rate-limiter';
export { DynamoDbRateLimitStore, type DynamoDbRateLimitStoreOptions, counterItemKey } from './dynamodb-rate-limit-store';
export { MemoryRateLimitStore } from './memory-rate-limit-store';
export type { CounterState, LeaseRequest, LeaseResult, RateLimitCounter, RateLimitStore } from './rate-limit-store';
