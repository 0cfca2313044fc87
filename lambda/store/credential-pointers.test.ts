import { hashCredential } from '../keys/credential-hash';
import { generateKey } from '../keys/key-format';
import {
  addPendingCredential,
  createRecord,
  dropPendingCredential,
  promotePendingCredential,
  regenerateCredential,
  retireGraceCredential,
  revoke,
} from '../keys/key-transitions';
import { POINTER_LINGER_SECONDS, pointerWrites } from './credential-pointers';

const now = new Date('2026-06-01T12:00:00Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const epoch = (date: Date) => Math.ceil(date.getTime() / 1000);
const input = { name: 'sensors', environment: 'production' as const, permissions: ['telemetry:write'] };

describe('credential pointers', () => {
  const current = generateKey('production');
  const pending = generateKey('production');
  const record = createRecord('acme', input, current, now);
  const added = addPendingCredential(record, pending, 'v1', now);

  it('indexes a new key, and a pending credential when it is added', () => {
    expect(pointerWrites(undefined, record)).toEqual([{ kind: 'create', credentialHash: hashCredential(current) }]);
    expect(pointerWrites(record, added)).toEqual([{ kind: 'create', credentialHash: hashCredential(pending) }]);
  });

  it('leaves the promoted credential\'s pointer alone, and expires the old one with its grace', () => {
    const promoted = promotePendingCredential(added, 'v1', later(600), later(10));
    expect(pointerWrites(added, promoted)).toEqual([
      { kind: 'expire', credentialHash: hashCredential(current), ttl: epoch(later(600)) + POINTER_LINGER_SECONDS },
    ]);
  });

  it('expires a dropped pending credential now, and writes nothing for a retired grace credential (it expires already)', () => {
    const dropped = dropPendingCredential(added, 'v1', later(5));
    expect(pointerWrites(added, dropped)).toEqual([{ kind: 'expire', credentialHash: hashCredential(pending), ttl: epoch(later(5)) + POINTER_LINGER_SECONDS }]);
    const promoted = promotePendingCredential(added, 'v1', later(600), later(10));
    expect(pointerWrites(promoted, retireGraceCredential(promoted, hashCredential(current), later(20)))).toEqual([]);
  });

  it('writes no pointer for a change of configuration, and expires only the pending one on revocation', () => {
    expect(pointerWrites(record, { ...record, name: 'renamed', version: 2 })).toEqual([]);
    expect(pointerWrites(added, revoke(added, later(1)))).toEqual([{ kind: 'expire', credentialHash: hashCredential(pending), ttl: epoch(later(1)) + POINTER_LINGER_SECONDS }]);
  });

  it('creates the new pointer and expires the old one on a regeneration, as before rotation existed', () => {
    const fresh = generateKey('production');
    expect(pointerWrites(record, regenerateCredential(record, fresh, 0, later(3)))).toEqual([
      { kind: 'create', credentialHash: hashCredential(fresh) },
      { kind: 'expire', credentialHash: hashCredential(current), ttl: epoch(later(3)) + POINTER_LINGER_SECONDS },
    ]);
  });

  it('lifts the expiry of a grace credential that becomes live again', () => {
    const promoted = promotePendingCredential(added, 'v1', later(600), later(10));
    const backToPending = { ...promoted, pendingCredential: { hash: hashCredential(current), start: 'kr_live_x', createdAt: now.toISOString(), rotationToken: 'v2' } };
    expect(pointerWrites(promoted, backToPending)).toEqual([{ kind: 'revive', credentialHash: hashCredential(current) }]);
  });
});
