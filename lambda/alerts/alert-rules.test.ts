import { type BucketCounts, countStatus, emptyCounts } from '../usage/usage-series';
import { DEFAULT_ALERT_THRESHOLDS as T } from './alert-thresholds';
import { alertId, newSourceFinding, retiredCredentialFinding, seriesFindings } from './alert-rules';

const MINUTE = 60_000;
const NOW = Date.parse('2027-03-01T12:00:30Z');
const CURRENT = NOW - (NOW % MINUTE);

/** Minute buckets: `statuses[i]` are the answers of the minute i minutes before the current one. */
function series(perMinute: Record<number, number[]>): Map<number, BucketCounts> {
  const minutes = new Map<number, BucketCounts>();
  for (const [ago, statuses] of Object.entries(perMinute)) {
    const counts = emptyCounts();
    for (const status of statuses) countStatus(counts, status);
    minutes.set(CURRENT - Number(ago) * MINUTE, counts);
  }
  return minutes;
}
const times = (n: number, status: number) => Array.from({ length: n }, () => status);
const steady = (perMinute: number, fromAgo: number, toAgo: number) =>
  Object.fromEntries(Array.from({ length: fromAgo - toAgo + 1 }, (_, i) => [toAgo + i, times(perMinute, 200)]));
const types = (minutes: Map<number, BucketCounts>) => seriesFindings(minutes, NOW, T).map((finding) => finding.type);

describe('error-rate', () => {
  it('fires when 401/403/429 reach the share over the window', () => {
    const findings = seriesFindings(series({ 0: [...times(10, 200), ...times(5, 401)], 3: [...times(3, 403), ...times(2, 429), 200] }), NOW, T);
    expect(findings).toEqual([expect.objectContaining({ type: 'error-rate', facts: { requests: 21, refusals: 10, share: 0.4762 } })]);
  });

  it('does not fire on normal traffic, other errors, too few requests, or refusals outside the window', () => {
    expect(types(series({ 0: times(50, 200), 1: [404, 400, 500, 503, ...times(20, 200)] }))).toEqual([]);
    expect(types(series({ 0: times(19, 401) }))).toEqual([]);
    expect(types(series({ 5: times(40, 401), 0: times(30, 200) }))).toEqual([]);
    expect(types(series({ 0: [...times(76, 200), ...times(24, 403)] }))).toEqual([]);
  });
});

describe('request-rate', () => {
  it('fires far above the trailing baseline', () => {
    const findings = seriesFindings(series({ ...steady(4, 64, 5), 0: times(150, 200) }), NOW, T);
    expect(findings).toEqual([expect.objectContaining({ type: 'request-rate', facts: { requests: 150, baseline: 20, factor: 7.5 } })]);
  });

  it('does not fire on steady traffic, below the factor or the minimum, or without a baseline', () => {
    expect(types(series({ ...steady(40, 64, 0) }))).toEqual([]);
    expect(types(series({ ...steady(40, 64, 5), 0: times(900, 200) }))).toEqual([]); // 900 < 5 × 200
    expect(types(series({ ...steady(1, 64, 5), 0: times(99, 200) }))).toEqual([]); // under rateMinRequests
    expect(types(series({ ...steady(4, 20, 5), 0: times(500, 200) }))).toEqual([]); // 16 minutes of history: no baseline
  });
});

describe('request-rate for keys that were idle', () => {
  it('fires on a burst from a key idle for the whole baseline, counting history from its creation', () => {
    const findings = seriesFindings(series({ 0: times(150, 200) }), NOW, T, NOW - 3 * 3600_000);
    expect(findings).toEqual([expect.objectContaining({ type: 'request-rate', facts: { requests: 150, baseline: 0 } })]);
    expect(findings[0].summary).toContain('after being idle');
  });

  it('stays quiet for a key created minutes ago, and measures a young key against the history it has', () => {
    expect(types(series({ 0: times(500, 200) }))).toEqual([]);
    expect(seriesFindings(series({ 0: times(500, 200) }), NOW, T, NOW - 10 * MINUTE)).toEqual([]);
    // 40 minutes of history at 4 a minute is 20 per window, not the 13.3 a full hour's division would give.
    const [finding] = seriesFindings(series({ ...steady(4, 44, 5), 0: times(120, 200) }), NOW, T, CURRENT - 44 * MINUTE);
    expect(finding?.facts).toMatchObject({ requests: 120, baseline: 20, factor: 6 });
  });
});

describe('new-source and retired-credential', () => {
  it('a first source alerts nobody; a later new one does', () => {
    expect(newSourceFinding('192.0.2.7', 0)).toBeUndefined();
    expect(newSourceFinding('192.0.2.7', 2)).toMatchObject({ type: 'new-source', facts: { sourceIp: '192.0.2.7' } });
  });

  it('names the uses and the last source, never the credential hash', () => {
    const hash = 'a'.repeat(64);
    const finding = retiredCredentialFinding(hash, 3, '198.51.100.4', NOW, T);
    expect(finding).toMatchObject({ type: 'retired-credential', facts: { uses: 3, sourceIp: '198.51.100.4' } });
    expect(JSON.stringify({ summary: finding.summary, facts: finding.facts })).not.toContain(hash.slice(0, 8));
  });
});

describe('alertId', () => {
  it('is the same for the same alert and differs across keys, types and identities', () => {
    const finding = { type: 'error-rate' as const, identity: 'slot:1' };
    expect(alertId('acme', 'key_a', finding)).toBe(alertId('acme', 'key_a', finding));
    expect(alertId('acme', 'key_a', finding)).toMatch(/^alr_[0-9A-Za-z]{24}$/);
    const others = [alertId('acme', 'key_b', finding), alertId('acme', 'key_a', { ...finding, type: 'request-rate' }), alertId('acme', 'key_a', { ...finding, identity: 'slot:2' })];
    expect(new Set([alertId('acme', 'key_a', finding), ...others]).size).toBe(4);
  });

  it('one error-rate alert per cooldown slot, a new one in the next', () => {
    const minutes = series({ 0: times(30, 401) });
    const id = (at: number) => alertId('acme', 'key_a', seriesFindings(new Map([...minutes].map(([start, c]) => [start - CURRENT + (at - (at % MINUTE)), c])), at, T)[0]);
    expect(id(NOW)).toBe(id(NOW + 2 * MINUTE));
    expect(id(NOW)).not.toBe(id(NOW + 30 * MINUTE));
  });
});
