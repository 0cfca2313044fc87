import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('grants the burst at once, then the rate, and never more than burst + rate × elapsed', () => {
    const bucket = new TokenBucket(10, 5, 0);
    let granted = 0;
    for (let i = 0; i < 20; i++) if (bucket.take(0)) granted += 1;
    expect(granted).toBe(5);
    // Asked every millisecond for 2 s: 10/s refills 20 tokens, and the burst cap keeps idle time from adding more.
    for (let t = 1; t <= 2000; t++) if (bucket.take(t)) granted += 1;
    expect(granted).toBe(5 + 20);
  });

  it('caps what idle time saves at the burst', () => {
    const bucket = new TokenBucket(10, 5, 0);
    let granted = 0;
    for (let i = 0; i < 20; i++) if (bucket.take(60_000)) granted += 1;
    expect(granted).toBe(5);
  });

  it('says how long until the next token, in whole seconds, at least 1', () => {
    const slow = new TokenBucket(0.25, 1, 0);
    expect(slow.take(0)).toBe(true);
    expect(slow.retryAfterSeconds(0)).toBe(4);
    expect(slow.retryAfterSeconds(3000)).toBe(1);
    expect(new TokenBucket(1000, 1, 0).retryAfterSeconds(0)).toBe(1);
  });

  it('mints nothing when the clock steps backwards', () => {
    const bucket = new TokenBucket(10, 1, 10_000);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(0)).toBe(false);
    expect(bucket.take(10_050)).toBe(false);
    expect(bucket.take(10_100)).toBe(true);
  });
});
