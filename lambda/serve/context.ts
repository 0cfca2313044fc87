/** The Hono environment shared by every route: what the auth middleware leaves for handlers. */
import type { ApiKeyRecord } from '../keys/key-record';
import type { RateLimitDecision } from '../rate-limit/rate-limiter';

export interface ServeEnv {
  Variables: {
    /** The verified key of the caller; set by `authenticate`. */
    key: ApiKeyRecord;
    /** The caller's rate-limit decision, echoed in X-RateLimit-* headers on every response. */
    rateLimit: RateLimitDecision;
  };
}
