import { KeyrollError } from '../errors';
import { generateKey } from './key-format';
import { acceptsCredential, keyStatus } from './key-record';
import {
  addPendingCredential,
  applyUpdate,
  createRecord,
  dropPendingCredential,
  markDeclared,
  MAX_GRACE_CREDENTIALS,
  promotePendingCredential,
  regenerateCredential,
  retireGraceCredential,
  revoke,
} from './key-transitions';
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

describe('rotation steps', () => {
  const opens = (record: ReturnType<typeof createRecord>, credential: string, at = now) => acceptsCredential(record, hashCredential(credential), at.getTime());
  const codeOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return (error as KeyrollError).code;
    }
    return undefined;
  };
  const setup = () => {
    const current = generateKey('production');
    const pending = generateKey('production');
    return { current, pending, record: createRecord('acme', input, current, now) };
  };

  it('opens the key with the pending credential beside the current one, and a retry changes nothing', () => {
    const { current, pending, record } = setup();
    const added = addPendingCredential(record, pending, 'v1', now);
    expect(opens(added, pending)).toBe(true);
    expect(opens(added, current)).toBe(true);
    expect(added.pendingCredential).toEqual({ hash: hashCredential(pending), start: pending.slice(0, 12), createdAt: now.toISOString(), rotationToken: 'v1' });
    expect(added.version).toBe(record.version + 1);
    expect(addPendingCredential(added, pending, 'v1', later(5))).toBe(added);
    expect(JSON.stringify(added)).not.toContain(pending);
  });

  it('refuses a second rotation while one is pending, another credential for the same rotation, and a credential the key has', () => {
    const { current, pending, record } = setup();
    const added = addPendingCredential(record, pending, 'v1', now);
    expect(codeOf(() => addPendingCredential(added, generateKey('production'), 'v2', now))).toBe('ROTATION_IN_PROGRESS');
    expect(codeOf(() => addPendingCredential(added, generateKey('production'), 'v1', now))).toBe('CREDENTIAL_CONFLICT');
    expect(codeOf(() => addPendingCredential(record, current, 'v1', now))).toBe('CREDENTIAL_CONFLICT');
    expect(codeOf(() => addPendingCredential(record, generateKey('staging'), 'v1', now))).toBe('VALIDATION_ERROR');
    expect(codeOf(() => addPendingCredential(revoke(record, now), pending, 'v1', now))).toBe('KEY_REVOKED');
  });

  it('refuses a plain regeneration during a rotation: the cutover would push its credential into grace', () => {
    const { pending, record } = setup();
    const added = addPendingCredential(record, pending, 'v1', now);
    expect(() => regenerateCredential(added, generateKey('production'), 0, now)).toThrow(
      expect.objectContaining({ code: 'ROTATION_IN_PROGRESS', message: expect.stringContaining('keyroll rotation sweep') }),
    );
  });

  it('promotes the pending credential and keeps the old one in grace until the given time; a retry changes nothing', () => {
    const { current, pending, record } = setup();
    const graceUntil = later(600);
    const promoted = promotePendingCredential(addPendingCredential(record, pending, 'v1', now), 'v1', graceUntil, later(10));
    expect(promoted.credentialHash).toBe(hashCredential(pending));
    expect(promoted.start).toBe(pending.slice(0, 12));
    expect(promoted.pendingCredential).toBeUndefined();
    expect(promoted.graceCredentials).toEqual([{ hash: hashCredential(current), validUntil: graceUntil.toISOString(), start: current.slice(0, 12) }]);
    expect(opens(promoted, current, later(599))).toBe(true);
    expect(opens(promoted, current, later(600))).toBe(false);
    expect(promotePendingCredential(promoted, 'v1', graceUntil, later(20))).toBe(promoted);
    // setSecret retried after the cutover: done already.
    expect(addPendingCredential(promoted, pending, 'v1', later(30))).toBe(promoted);
  });

  it('promotes without grace when the grace ends no later than now', () => {
    const { current, pending, record } = setup();
    const promoted = promotePendingCredential(addPendingCredential(record, pending, 'v1', now), 'v1', now.toISOString(), now);
    expect(promoted.graceCredentials).toEqual([]);
    expect(opens(promoted, current)).toBe(false);
  });

  it('refuses to promote a rotation with no pending credential', () => {
    const { pending, record } = setup();
    expect(codeOf(() => promotePendingCredential(record, 'v1', later(60), now))).toBe('NO_PENDING_CREDENTIAL');
    const dropped = dropPendingCredential(addPendingCredential(record, pending, 'v1', now), 'v1', now);
    expect(codeOf(() => promotePendingCredential(dropped, 'v1', later(60), now))).toBe('NO_PENDING_CREDENTIAL');
    expect(codeOf(() => promotePendingCredential(revoke(record, now), 'v1', later(60), now))).toBe('KEY_REVOKED');
  });

  it('drops only the pending credential of the rotation named, and retires only the grace credential named', () => {
    const { current, pending, record } = setup();
    const added = addPendingCredential(record, pending, 'v1', now);
    expect(dropPendingCredential(added, 'v2', now)).toBe(added);
    const dropped = dropPendingCredential(added, 'v1', now);
    expect(opens(dropped, pending)).toBe(false);
    expect(opens(dropped, current)).toBe(true);
    expect(dropPendingCredential(dropped, 'v1', now)).toBe(dropped);

    const promoted = promotePendingCredential(addPendingCredential(record, pending, 'v1', now), 'v1', later(600), now);
    expect(retireGraceCredential(promoted, hashCredential(pending), now)).toBe(promoted);
    const retired = retireGraceCredential(promoted, hashCredential(current), later(1));
    expect(opens(retired, current, later(1))).toBe(false);
    expect(opens(retired, pending, later(1))).toBe(true);
    expect(retireGraceCredential(retired, hashCredential(current), later(2))).toBe(retired);
  });

  it(`refuses a rotation with ${MAX_GRACE_CREDENTIALS} credentials in grace, before any consumer is touched`, () => {
    let record = createRecord('acme', input, generateKey('production'), now);
    for (let i = 0; i < MAX_GRACE_CREDENTIALS; i++) record = regenerateCredential(record, generateKey('production'), 3600, later(i));
    expect(() => addPendingCredential(record, generateKey('production'), 'v1', later(10))).toThrow(
      expect.objectContaining({ code: 'GRACE_LIMIT_REACHED', message: expect.stringContaining('Retry the rotation after') }),
    );
    expect(addPendingCredential(record, generateKey('production'), 'v1', later(3600)).pendingCredential).toBeDefined();
  });

  it('revocation ends the pending credential too', () => {
    const { pending, record } = setup();
    const revoked = revoke(addPendingCredential(record, pending, 'v1', now), now);
    expect(revoked.pendingCredential).toBeUndefined();
    // Revoked keys refuse every credential at verification (keyStatus); the record keeps none pending.
    expect(keyStatus(revoked, now.getTime())).toBe('revoked');
  });

  it('keeps the display start of a credential put in grace by regeneration', () => {
    const { current, record } = setup();
    expect(regenerateCredential(record, generateKey('production'), 60, now).graceCredentials[0].start).toBe(current.slice(0, 12));
  });

  it('marks a key declared once; the same declaration again changes nothing', () => {
    const { record } = setup();
    const declared = { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:keyroll/acme/sensors-AbCdEf', name: 'sensors' };
    const marked = markDeclared(record, declared, now);
    expect(marked.declared).toEqual(declared);
    expect(marked.version).toBe(record.version + 1);
    expect(markDeclared(marked, { ...declared }, later(1))).toBe(marked);
    expect(createRecord('acme', input, generateKey('production'), now, undefined, { declared }).declared).toEqual(declared);
  });
});
