import { keyRefId } from '../handout/key-ref';
import { consumerCacheSecondsFromEnv, DEFAULT_CONSUMER_CACHE_SECONDS, disposeSuperseded, type SupersededFacts } from './superseded-keys';

const nowMs = Date.parse('2026-06-01T12:00:00Z');
const old = { tenant: 'acme', keyId: 'key_old' };
const older = { tenant: 'acme', keyId: 'key_older' };
const facts = (overrides: Partial<SupersededFacts> = {}): SupersededFacts => ({
  superseded: [old],
  drainingUntil: new Map(),
  replaced: { ref: old },
  cachingConsumers: true,
  horizonMs: 900_000,
  nowMs,
  ...overrides,
});

describe('disposeSuperseded', () => {
  it('keeps the replaced key working for the horizon when reference rules cache the secret', () => {
    const until = { ...old, expiresAt: '2026-06-01T12:15:00.000Z' };
    expect(disposeSuperseded(facts())).toEqual({ revoke: [], draining: [until], startDrain: until });
  });

  it('revokes the replaced key at once without reference rules, or with a horizon of 0', () => {
    expect(disposeSuperseded(facts({ cachingConsumers: false }))).toEqual({ revoke: [old], draining: [] });
    expect(disposeSuperseded(facts({ horizonMs: 0 }))).toEqual({ revoke: [old], draining: [] });
  });

  it('never keeps a key past its own expiry', () => {
    const soon = '2026-06-01T12:05:00.000Z';
    expect(disposeSuperseded(facts({ replaced: { ref: old, expiresAt: soon } })).startDrain).toEqual({ ...old, expiresAt: soon });
    expect(disposeSuperseded(facts({ replaced: { ref: old, expiresAt: '2026-06-01T11:00:00Z' } }))).toEqual({ revoke: [old], draining: [] });
  });

  it('keeps a recorded key draining until its expiry, then revokes it', () => {
    const drainingUntil = new Map([[keyRefId(older), '2026-06-01T12:10:00.000Z']]);
    const later = { superseded: [older], drainingUntil, replaced: undefined };
    expect(disposeSuperseded(facts(later))).toEqual({ revoke: [], draining: [{ ...older, expiresAt: '2026-06-01T12:10:00.000Z' }] });
    expect(disposeSuperseded(facts({ ...later, nowMs: Date.parse('2026-06-01T12:10:00Z') }))).toEqual({ revoke: [older], draining: [] });
  });

  it('revokes keys superseded otherwise (a dead run\'s, an earlier key) whatever the consumers', () => {
    expect(disposeSuperseded(facts({ superseded: [older], replaced: undefined }))).toEqual({ revoke: [older], draining: [] });
  });

  it('does not restart the horizon of a replaced key already draining (a retried run)', () => {
    const drainingUntil = new Map([[keyRefId(old), '2026-06-01T12:01:00.000Z']]);
    expect(disposeSuperseded(facts({ drainingUntil }))).toEqual({ revoke: [], draining: [{ ...old, expiresAt: '2026-06-01T12:01:00.000Z' }] });
  });
});

describe('consumerCacheSecondsFromEnv', () => {
  it("is AWS's 900 s unless KEYROLL_CONSUMER_CACHE_SECONDS says otherwise", () => {
    expect(consumerCacheSecondsFromEnv({})).toBe(DEFAULT_CONSUMER_CACHE_SECONDS);
    expect(consumerCacheSecondsFromEnv({ KEYROLL_CONSUMER_CACHE_SECONDS: ' ' })).toBe(900);
    expect(consumerCacheSecondsFromEnv({ KEYROLL_CONSUMER_CACHE_SECONDS: '2' })).toBe(2);
    expect(consumerCacheSecondsFromEnv({ KEYROLL_CONSUMER_CACHE_SECONDS: '0' })).toBe(0);
  });

  it('refuses a value that is not a number of seconds, naming the variable', () => {
    expect(() => consumerCacheSecondsFromEnv({ KEYROLL_CONSUMER_CACHE_SECONDS: '15m' })).toThrow(
      expect.objectContaining({ code: 'INVALID_SETTING', message: expect.stringContaining('KEYROLL_CONSUMER_CACHE_SECONDS is "15m": give a number of seconds') }),
    );
    expect(() => consumerCacheSecondsFromEnv({ KEYROLL_CONSUMER_CACHE_SECONDS: '-1' })).toThrow(expect.objectContaining({ code: 'INVALID_SETTING' }));
  });
});
