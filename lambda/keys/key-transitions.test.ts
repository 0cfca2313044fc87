import { KeyrollError } from '../errors';
import { generateKey } from './key-format';
import { acceptsCredential, keyStatus } from './key-record';
import { applyUpdate, createRecord, MAX_GRACE_CREDENTIALS, regenerateCredential, revoke } from './key-transitions';
import { hashCredential } from './credential-hash';

const now = new Date('2026-06-01T12:00:00Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const input = { name: 'sensors', environment: 'production' as const, permissions: ['telemetry:write'] };

describe('key transitions', () => {
  it('creates an active key holding only the hash of its secret', () => {
    const key = generateKey('production');
    const record = createRecord('acme', input, key, now);
    expect(keyStatus(record, now.getTime())).toBe('active');
    expect(record.credentialHash).toBe(hashCredential(key));
    expect(JSON.stringify(record)).not.toContain(key);
    expect(record.rateLimit).toEqual({ limit: 6000, windowSeconds: 60 });
    expect(record.start).toBe(key.slice(0, 12));
  });

  it('refuses an expiry in the past', () => {
    expect(() => createRecord('acme', { ...input, expiresAt: '2026-05-01T00:00:00Z' }, generateKey('production'), now)).toThrow(
      /`expiresAt` is in the past/,
    );
  });

  it('derives expired, inactive and revoked', () => {
    const record = createRecord('acme', { ...input, expiresAt: later(60).toISOString() }, generateKey('production'), now);
    expect(keyStatus(record, later(61).getTime())).toBe('expired');
    const disabled = applyUpdate(record, { enabled: false }, now);
    expect(keyStatus(disabled, now.getTime())).toBe('inactive');
    expect(keyStatus(applyUpdate(disabled, { enabled: true }, now), now.getTime())).toBe('active');
    const revoked = revoke(disabled, now);
    expect(keyStatus(revoked, now.getTime())).toBe('revoked');
  });

  it('never re-enables or changes a revoked key', () => {
    const revoked = revoke(createRecord('acme', input, generateKey('production'), now), now);
    expect(() => applyUpdate(revoked, { enabled: true }, now)).toThrow(KeyrollError);
    expect(() => regenerateCredential(revoked, generateKey('production'), 0, now)).toThrow(/revoked/);
  });

  it('removes the expiry when asked with null', () => {
    const record = createRecord('acme', { ...input, expiresAt: later(60).toISOString() }, generateKey('production'), now);
    const updated = applyUpdate(record, { expiresAt: null }, now);
    expect(updated.expiresAt).toBeUndefined();
    expect(updated.version).toBe(record.version + 1);
  });

  it('regenerates without grace: the old secret stops at once', () => {
    const oldKey = generateKey('production');
    const newKey = generateKey('production');
    const record = regenerateCredential(createRecord('acme', input, oldKey, now), newKey, 0, now);
    expect(acceptsCredential(record, hashCredential(newKey), now.getTime())).toBe(true);
    expect(acceptsCredential(record, hashCredential(oldKey), now.getTime())).toBe(false);
  });

  it('regenerates with grace: the old secret works until the grace ends', () => {
    const oldKey = generateKey('production');
    const record = regenerateCredential(createRecord('acme', input, oldKey, now), generateKey('production'), 30, now);
    expect(acceptsCredential(record, hashCredential(oldKey), later(29).getTime())).toBe(true);
    expect(acceptsCredential(record, hashCredential(oldKey), later(30).getTime())).toBe(false);
  });

  it('drops secrets whose grace ran out, and revocation ends every grace', () => {
    const first = generateKey('production');
    const second = generateKey('production');
    let record = regenerateCredential(createRecord('acme', input, first, now), second, 10, now);
    record = regenerateCredential(record, generateKey('production'), 100, later(20));
    expect(record.graceCredentials.map((g) => g.hash)).toEqual([hashCredential(second)]);
    expect(revoke(record, later(21)).graceCredentials).toEqual([]);
  });

  it(`keeps at most ${MAX_GRACE_CREDENTIALS} secrets in grace, refusing a regeneration with grace beyond that`, () => {
    let record = createRecord('acme', input, generateKey('production'), now);
    for (let i = 0; i < MAX_GRACE_CREDENTIALS; i++) record = regenerateCredential(record, generateKey('production'), 3600, later(i));
    expect(record.graceCredentials).toHaveLength(MAX_GRACE_CREDENTIALS);
    expect(() => regenerateCredential(record, generateKey('production'), 3600, later(10))).toThrow(
      expect.objectContaining({ code: 'GRACE_LIMIT_REACHED', message: expect.stringContaining('graceSeconds: 0') }),
    );
    // Without grace nothing is added, so it still works; once a grace ends there is room again.
    expect(regenerateCredential(record, generateKey('production'), 0, later(10)).graceCredentials).toHaveLength(MAX_GRACE_CREDENTIALS);
    expect(regenerateCredential(record, generateKey('production'), 3600, later(3600)).graceCredentials).toHaveLength(MAX_GRACE_CREDENTIALS);
  });
});
