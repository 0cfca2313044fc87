import { IDLE, type RotationState } from '../rotate/rotation-plan';
import { assertPlanFitsRotation, consumersHold } from './rotation-credential';
import type { KeyPlan } from './key-plan';

const at = (phase: RotationState['phase']): RotationState => ({ ...IDLE, phase, versionId: 'v-2', keyId: 'key_1' });

describe('consumersHold', () => {
  it('is the pending credential once setSecret has run, and the current one otherwise', () => {
    expect(consumersHold(IDLE)).toBe('current');
    expect(consumersHold(at('created'))).toBe('current');
    expect(consumersHold(at('set'))).toBe('pending');
    expect(consumersHold(at('tested'))).toBe('pending');
    // After the cutover the secret's current credential is the new one.
    expect(consumersHold(at('draining'))).toBe('current');
  });

  it('stays on the pending credential while a failed step is retried', () => {
    expect(consumersHold({ ...at('set'), failure: { code: 'CONSUMER_MISMATCH', message: 'm', at: '2026-06-01T00:00:00Z' } })).toBe('pending');
  });
});

describe('assertPlanFitsRotation', () => {
  const keep = { kind: 'keep' } as KeyPlan;
  const replace = { kind: 'replace', reason: 'environment-changed' } as KeyPlan;

  it('lets every plan through when no rotation is under way', () => {
    for (const state of [IDLE, at('draining')]) {
      expect(() => assertPlanFitsRotation(replace, state, 'acme', 'sensors')).not.toThrow();
    }
  });

  it('lets a rotation under way only keep the key, and says what to do otherwise', () => {
    expect(() => assertPlanFitsRotation(keep, at('set'), 'acme', 'sensors')).not.toThrow();
    for (const kind of ['issue', 'replace', 'regenerate'] as const) {
      expect(() => assertPlanFitsRotation({ ...replace, kind } as KeyPlan, at('created'), 'acme', 'sensors')).toThrow(
        expect.objectContaining({
          code: 'ROTATION_IN_PROGRESS',
          message: expect.stringMatching(/A rotation of key `sensors` of tenant `acme` is under way \(phase created, secret version v-2\).*Re-run the apply once the rotation has finished/),
        }),
      );
    }
  });
});
