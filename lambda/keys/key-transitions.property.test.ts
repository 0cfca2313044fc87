/**
 * Property tests over any interleaving of a key's credential changes (rotation steps, regenerations,
 * revocation, time passing), each possibly retried: what must hold after every step.
 */
import fc from 'fast-check';
import { KeyrollError } from '../errors';
import { hashCredential } from './credential-hash';
import { generateKey } from './key-format';
import { acceptsCredential, type ApiKeyRecord } from './key-record';
import {
  addPendingCredential,
  createRecord,
  dropPendingCredential,
  MAX_GRACE_CREDENTIALS,
  promotePendingCredential,
  regenerateCredential,
  retireGraceCredential,
  revoke,
} from './key-transitions';

const TOKENS = ['v0', 'v1', 'v2'];
/** Credentials a rotation may add: each token's own, plus strays (a buggy or stale caller). */
const ROTATION_CREDENTIALS = Array.from({ length: TOKENS.length + 2 }, () => generateKey('production'));
const REGENERATED = Array.from({ length: 64 }, () => generateKey('production'));
const INITIAL = generateKey('production');
const KNOWN = [INITIAL, ...ROTATION_CREDENTIALS, ...REGENERATED].map(hashCredential);
const GRACES = [0, 30, 600, 86_400];

type Op =
  | { readonly op: 'add'; readonly token: number; readonly credential: number }
  | { readonly op: 'promote'; readonly token: number; readonly graceSeconds: number }
  | { readonly op: 'drop'; readonly token: number }
  | { readonly op: 'retire'; readonly known: number }
  | { readonly op: 'regenerate'; readonly graceSeconds: number }
  | { readonly op: 'tick'; readonly seconds: number }
  | { readonly op: 'revoke' };

const token = fc.nat(TOKENS.length - 1);
const grace = fc.constantFrom(...GRACES);
const opArbitrary: fc.Arbitrary<{ step: Op; retried: boolean }> = fc.record({
  step: fc.oneof(
    // Mostly a token's own credential; sometimes another (a stale or buggy caller).
    { weight: 8, arbitrary: fc.record({ op: fc.constant('add' as const), token, credential: fc.oneof({ weight: 4, arbitrary: token }, { weight: 1, arbitrary: fc.nat(ROTATION_CREDENTIALS.length - 1) }) }) },
    { weight: 8, arbitrary: fc.record({ op: fc.constant('promote' as const), token, graceSeconds: grace }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('drop' as const), token }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('retire' as const), known: fc.nat(KNOWN.length - 1) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('regenerate' as const), graceSeconds: grace }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), seconds: fc.constantFrom(1, 29, 31, 599, 3600) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'revoke' as const }) },
  ),
  retried: fc.boolean(),
});

const ALLOWED_CODES = new Set(['ROTATION_IN_PROGRESS', 'CREDENTIAL_CONFLICT', 'NO_PENDING_CREDENTIAL', 'GRACE_LIMIT_REACHED', 'KEY_REVOKED']);

interface World {
  record: ApiKeyRecord;
  nowMs: number;
  regenerated: number;
}

type Outcome = { readonly record: ApiKeyRecord } | { readonly code: string };

function apply(world: World, step: Op): Outcome {
  const now = new Date(world.nowMs);
  try {
    switch (step.op) {
      case 'add':
        return { record: addPendingCredential(world.record, ROTATION_CREDENTIALS[step.credential], TOKENS[step.token], now) };
      case 'promote':
        return { record: promotePendingCredential(world.record, TOKENS[step.token], new Date(world.nowMs + step.graceSeconds * 1000), now) };
      case 'drop':
        return { record: dropPendingCredential(world.record, TOKENS[step.token], now) };
      case 'retire':
        return { record: retireGraceCredential(world.record, KNOWN[step.known], now) };
      case 'regenerate':
        return { record: regenerateCredential(world.record, REGENERATED[world.regenerated++], step.graceSeconds, now) };
      case 'tick':
        world.nowMs += step.seconds * 1000;
        return { record: world.record };
      case 'revoke':
        return { record: world.record.revokedAt ? world.record : revoke(world.record, now) };
    }
  } catch (error) {
    if (!(error instanceof KeyrollError) || !ALLOWED_CODES.has(error.code)) throw error;
    return { code: error.code };
  }
}

const opens = (record: ApiKeyRecord, hash: string, nowMs: number) => acceptsCredential(record, hash, nowMs);

/** Whether `step` may end `hash` working, given the record before it: only on purpose, never as a side effect. */
function mayEnd(before: ApiKeyRecord, step: Op, hash: string): boolean {
  switch (step.op) {
    case 'retire':
      return KNOWN[step.known] === hash;
    case 'drop':
      return before.pendingCredential?.hash === hash;
    case 'regenerate':
    case 'promote':
      // Replaced without grace.
      return step.graceSeconds === 0 && before.credentialHash === hash;
    case 'revoke':
      return true;
    default:
      return false;
  }
}

function checkInvariants(record: ApiKeyRecord, nowMs: number): void {
  const all = [record.credentialHash, ...(record.pendingCredential ? [record.pendingCredential.hash] : []), ...record.graceCredentials.map((g) => g.hash)];
  expect(new Set(all).size).toBe(all.length);
  expect(record.graceCredentials.filter((g) => Date.parse(g.validUntil) > nowMs).length).toBeLessThanOrEqual(MAX_GRACE_CREDENTIALS);
  if (!record.revokedAt) expect(opens(record, record.credentialHash, nowMs)).toBe(true);
  else expect(record.pendingCredential).toBeUndefined();
}

describe('any interleaving of credential changes', () => {
  let promotions = 0;
  let fullGrace = 0;

  it('keeps at most one pending and ≤ 3 in grace, the current always opening, no credential ended by accident, retries idempotent', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { minLength: 10, maxLength: 80 }), (steps) => {
        const world: World = { record: createRecord('acme', { name: 'k', environment: 'production', permissions: ['telemetry:write'] }, INITIAL, new Date('2026-06-01T12:00:00Z')), nowMs: Date.parse('2026-06-01T12:00:00Z'), regenerated: 0 };
        for (const { step, retried } of steps) {
          const before = world.record;
          const outcome = apply(world, step);
          if ('record' in outcome) {
            const after = outcome.record;
            // A change bumps the version by one; a no-op hands back the very record (nothing to write).
            if (after !== before) expect(after.version).toBe(before.version + 1);
            for (const hash of KNOWN) {
              if (opens(before, hash, world.nowMs) && !opens(after, hash, world.nowMs)) expect({ step, ended: hash, allowed: mayEnd(before, step, hash) }).toMatchObject({ allowed: true });
            }
            if (step.op === 'add' && after !== before) expect(opens(after, hashCredential(ROTATION_CREDENTIALS[step.credential]), world.nowMs)).toBe(true);
            if (step.op === 'promote' && before.pendingCredential?.rotationToken === TOKENS[step.token]) {
              expect(after.credentialHash).toBe(before.pendingCredential.hash);
              promotions += 1;
            }
            world.record = after;
          }
          // A rotation step retried (Secrets Manager retries each) finds its work done, or fails again alike.
          if (retried && ['add', 'promote', 'drop', 'retire'].includes(step.op)) {
            const again = apply(world, step);
            if ('record' in outcome) expect(again).toEqual({ record: world.record });
            if ('record' in again) expect(again.record).toBe(world.record);
            else expect(again).toEqual(outcome);
          }
          checkInvariants(world.record, world.nowMs);
          if (world.record.graceCredentials.filter((g) => Date.parse(g.validUntil) > world.nowMs).length === MAX_GRACE_CREDENTIALS) fullGrace += 1;
        }
      }),
      { numRuns: 300 },
    );
    // The interleavings must reach cutovers and full grace lists often enough to say anything about them.
    expect(promotions).toBeGreaterThan(100);
    expect(fullGrace).toBeGreaterThan(100);
  });
});
