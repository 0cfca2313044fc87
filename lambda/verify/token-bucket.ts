/**
 * A token bucket on a caller-supplied clock: `burst` tokens at most, refilled continuously at
 * `ratePerSecond`. Over any interval of T ms it grants at most `burst + ratePerSecond × T / 1000`.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.updatedAt = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole seconds until a token is available (at least 1, for a Retry-After header). */
  retryAfterSeconds(nowMs: number): number {
    this.refill(nowMs);
    return Math.max(1, Math.ceil((1 - this.tokens) / this.ratePerSecond));
  }

  private refill(nowMs: number): void {
    // A clock stepping backwards must not mint tokens; it just waits to catch up.
    const elapsed = nowMs - this.updatedAt;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = nowMs;
  }
}
