import { KeyrollError } from '../errors';
import { generateKey } from './key-format';
import { acceptsSecret, keyStatus } from './key-record';
import { applyUpdate, createRecord, MAX_GRACE_SECRETS, regenerateSecret, revoke } from './key-transitions';
import { hashSecret } from './secret-hash';

const now = new Date('2026-06-01T12:00:00Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const input = { name: 'sensors', environment: 'production' as const, permissions: ['telemetry:write'] };

describe('key transitions', () => {
  it('creates an active key holding only the hash of its secret', () => {
    const key = generateKey('production');
    const record = createRecord('acme', input, key, now);
    expect(keyStatus(record, now.getTime())).toBe('active');
    expect(record.secretHash).toBe(hashSecret(key));
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
    expect(() => regenerateSecret(revoked, generateKey('production'), 0, now)).toThrow(/revoked/);
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
    const record = regenerateSecret(createRecord('acme', input, oldKey, now), newKey, 0, now);
    expect(acceptsSecret(record, hashSecret(newKey), now.getTime())).toBe(true);
    expect(acceptsSecret(record, hashSecret(oldKey), now.getTime())).toBe(false);
  });

  it('regenerates with grace: the old secret works until the grace ends', () => {
    const oldKey = generateKey('production');
    const record = regenerateSecret(createRecord('acme', input, oldKey, now), generateKey('production'), 30, now);
    expect(acceptsSecret(record, hashSecret(oldKey), later(29).getTime())).toBe(true);
    expect(acceptsSecret(record, hashSecret(oldKey), later(30).getTime())).toBe(false);
  });

  it('drops secrets whose grace ran out, and revocation ends every grace', () => {
    const first = generateKey('production');
    const second = generateKey('production');
    let record = regenerateSecret(createRecord('acme', input, first, now), second, 10, now);
    record = regenerateSecret(record, generateKey('production'), 100, later(20));
    expect(record.graceSecrets.map((g) => g.hash)).toEqual([hashSecret(second)]);
    expect(revoke(record, later(21)).graceSecrets).toEqual([]);
  });

  it(`keeps at most ${MAX_GRACE_SECRETS} secrets in grace, refusing a regeneration with grace beyond that`, () => {
    let record = createRecord('acme', input, generateKey('production'), now);
    for (let i = 0; i < MAX_GRACE_SECRETS; i++) record = regenerateSecret(record, generateKey('production'), 3600, later(i));
    expect(record.graceSecrets).toHaveLength(MAX_GRACE_SECRETS);
    expect(() => regenerateSecret(record, generateKey('production'), 3600, later(10))).toThrow(
      expect.objectContaining({ code: 'GRACE_LIMIT_REACHED', message: expect.stringContaining('graceSeconds: 0') }),
    );
    // Without grace nothing is added, so it still works; once a grace ends there is room again.
    expect(regenerateSecret(record, generateKey('production'), 0, later(10)).graceSecrets).toHaveLength(MAX_GRACE_SECRETS);
    expect(regenerateSecret(record, generateKey('production'), 3600, later(3600)).graceSecrets).toHaveLength(MAX_GRACE_SECRETS);
  });
});
