import fc from 'fast-check';
import {
  afterFailure,
  afterRepair,
  afterRetirement,
  afterStep,
  decideStep,
  IDLE,
  isStuck,
  type RetiringCredential,
  retirementDecision,
  ROTATION_STEPS,
  type RotationState,
  type RotationStep,
  rotationStatus,
} from './rotation-plan';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const MIN = 60_000;
const HORIZON = 15 * MIN;
const LAG = 10_000;

/** Runs one step the way the Lambda does: ask, act (here: nothing), record. */
function run(state: RotationState, step: RotationStep, token: string, nowMs: number): { state: RotationState; ran: boolean } {
  const decision = decideStep(state, step, token);
  if (decision.kind !== 'run') return { state, ran: false };
  const now = new Date(nowMs);
  const retiring: RetiringCredential | undefined =
    step === 'finishSecret'
      ? { hash: `old-of-${token}`, start: 'kr_live_old', cutoverAt: now.toISOString(), graceUntil: new Date(nowMs + 60 * MIN).toISOString(), emergency: false }
      : undefined;
  return { state: afterStep(state, step, token, now, { keyId: 'key_1', retiring }), ran: true };
}

describe('decideStep', () => {
  it('runs the four steps of one version in order, once each', () => {
    let state = IDLE;
    for (const step of ROTATION_STEPS) {
      expect(decideStep(state, step, 'v1')).toEqual({ kind: 'run' });
      state = run(state, step, 'v1', T0).state;
      expect(decideStep(state, step, 'v1')).toEqual({ kind: 'done' });
    }
    expect(state.phase).toBe('draining');
    expect(rotationStatus(state)).toBe('draining');
  });

  it('refuses a step whose predecessor has not run for that version', () => {
    const created = run(IDLE, 'createSecret', 'v1', T0).state;
    expect(decideStep(created, 'testSecret', 'v1').kind).toBe('refuse');
    expect(decideStep(created, 'finishSecret', 'v1').kind).toBe('refuse');
    expect(decideStep(created, 'setSecret', 'v2').kind).toBe('refuse');
  });

  it('lets a new version supersede an unfinished one, naming it so its pending credential is dropped', () => {
    const set = run(run(IDLE, 'createSecret', 'v1', T0).state, 'setSecret', 'v1', T0).state;
    expect(decideStep(set, 'createSecret', 'v2')).toEqual({ kind: 'run', supersedes: 'v1' });
    const draining = ROTATION_STEPS.reduce((s, step) => run(s, step, 'v1', T0).state, IDLE);
    expect(decideStep(draining, 'createSecret', 'v2')).toEqual({ kind: 'run' });
  });

  it('after a repair, the repaired version never starts again; a new version may', () => {
    const set = run(run(IDLE, 'createSecret', 'v1', T0).state, 'setSecret', 'v1', T0).state;
    const repaired = afterRepair(set, { code: 'STUCK', message: 'no progress', at: new Date(T0).toISOString() });
    expect(repaired.phase).toBe('idle');
    expect(rotationStatus(repaired)).toBe('failed');
    // Its pending credential was dropped for good: a late SM retry of any step is refused.
    for (const step of ROTATION_STEPS) expect(decideStep(repaired, step, 'v1').kind).toBe('refuse');
    expect(decideStep(repaired, 'createSecret', 'v2')).toEqual({ kind: 'run' });
  });

  it('answers done to a late retry of a version that finished and drained (or retired at once)', () => {
    const draining = ROTATION_STEPS.reduce((s, step) => run(s, step, 'v1', T0).state, IDLE);
    const drained = afterRetirement(draining, draining.retiring[0], 'emergency', new Date(T0 + MIN));
    expect(drained.phase).toBe('idle');
    for (const step of ROTATION_STEPS) expect(decideStep(drained, step, 'v1')).toEqual({ kind: 'done' });
    // A repaired version is not finished: only createSecret may start it again.
    const set = run(run(drained, 'createSecret', 'v2', T0 + 2 * MIN).state, 'setSecret', 'v2', T0 + 2 * MIN).state;
    const repaired = afterRepair(set, { code: 'STUCK', message: 'no progress', at: new Date(T0 + 3 * MIN).toISOString() });
    expect(decideStep(repaired, 'finishSecret', 'v2').kind).toBe('refuse');
    expect(decideStep(repaired, 'createSecret', 'v2').kind).toBe('refuse');
  });

  it('keeps a failure visible until the next cutover clears it', () => {
    const created = run(IDLE, 'createSecret', 'v1', T0).state;
    const failed = afterFailure(created, { code: 'RULE_NOT_OWNED', message: 'm', step: 'setSecret', at: new Date(T0).toISOString() });
    expect(rotationStatus(failed)).toBe('failed');
    const done = ['setSecret', 'testSecret', 'finishSecret'].reduce((s, step) => run(s, step as RotationStep, 'v1', T0).state, failed);
    expect(done.failure).toBeUndefined();
    expect(rotationStatus(done)).toBe('draining');
  });

  // Secrets Manager retries whole rotations, Lambdas die between steps, and two callers race: any
  // interleaving of step attempts over a few versions must still only ever finish a version whose
  // earlier steps all completed, each once.
  it('never finishes a version whose earlier steps did not all run, whatever the interleaving', () => {
    const attempt = fc.record({ step: fc.constantFrom(...ROTATION_STEPS), token: fc.constantFrom('v1', 'v2', 'v3') });
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 40 }), (attempts) => {
        let state = IDLE;
        const ranFor = new Map<string, RotationStep[]>();
        for (const { step, token } of attempts) {
          const before = state;
          const result = run(state, step, token, T0);
          state = result.state;
          if (!result.ran) continue;
          const ran = step === 'createSecret' ? [] : [...(ranFor.get(token) ?? [])];
          // Each step runs only right after its predecessor, for the same version.
          expect(ran).toEqual(ROTATION_STEPS.slice(0, ROTATION_STEPS.indexOf(step)));
          expect(before.versionId === token || step === 'createSecret').toBe(true);
          ranFor.set(token, [...ran, step]);
        }
      }),
    );
  });
});

describe('retirementDecision', () => {
  const cutoverAt = T0;
  const old = (overrides: Partial<RetiringCredential> = {}): RetiringCredential => ({
    hash: 'h',
    start: 'kr_live_old',
    cutoverAt: new Date(cutoverAt).toISOString(),
    graceUntil: new Date(cutoverAt + 60 * MIN).toISOString(),
    emergency: false,
    ...overrides,
  });
  const facts = (nowMs: number, extra: { consumersVerified?: boolean; lastUsedAtMs?: number } = {}) => ({
    nowMs,
    horizonMs: HORIZON,
    usageLagMs: LAG,
    consumersVerified: extra.consumersVerified ?? true,
    ...(extra.lastUsedAtMs !== undefined ? { lastUsedAtMs: extra.lastUsedAtMs } : {}),
  });

  it('waits for the horizon after cutover, then retires an unused credential', () => {
    expect(retirementDecision(old(), facts(cutoverAt + HORIZON - 1))).toMatchObject({ retire: false, waitingFor: 'horizon' });
    expect(retirementDecision(old(), facts(cutoverAt + HORIZON + LAG))).toEqual({ retire: true, reason: 'drained', stillInUse: false });
  });

  it('waits while the old credential was used within a horizon', () => {
    const usedAt = cutoverAt + 20 * MIN;
    expect(retirementDecision(old(), facts(cutoverAt + 25 * MIN, { lastUsedAtMs: usedAt }))).toMatchObject({ retire: false, waitingFor: 'recent-use' });
    expect(retirementDecision(old(), facts(usedAt + HORIZON + LAG, { lastUsedAtMs: usedAt }))).toMatchObject({ retire: true, reason: 'drained' });
  });

  it('waits for every written consumer to hold the new credential, up to the grace', () => {
    expect(retirementDecision(old(), facts(cutoverAt + 30 * MIN, { consumersVerified: false }))).toMatchObject({ retire: false, waitingFor: 'consumers' });
    expect(retirementDecision(old(), facts(cutoverAt + 60 * MIN, { consumersVerified: false }))).toMatchObject({ retire: true, reason: 'grace-ended' });
  });

  it('retires at the end of the grace even while the old credential is in use, and says so', () => {
    const now = cutoverAt + 60 * MIN;
    expect(retirementDecision(old(), facts(now, { lastUsedAtMs: now - 1000 }))).toEqual({ retire: true, reason: 'grace-ended', stillInUse: true });
  });

  it('an emergency retires as soon as the consumers are verified, with no drain', () => {
    expect(retirementDecision(old({ emergency: true }), facts(cutoverAt + 1, { lastUsedAtMs: cutoverAt }))).toMatchObject({ retire: true, reason: 'emergency', stillInUse: true });
    expect(retirementDecision(old({ emergency: true }), facts(cutoverAt + 1, { consumersVerified: false }))).toMatchObject({ retire: false });
  });

  it('never retires before the horizon (unless emergency or grace ended), always by the grace, and stays retired as time passes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 180 }), // graceMinutes
        fc.integer({ min: 0, max: 240 * 60 }), // now, seconds after cutover
        fc.option(fc.integer({ min: -10 * 60, max: 240 * 60 }), { nil: undefined }), // last use, seconds after cutover
        fc.boolean(),
        fc.boolean(),
        (graceMinutes, nowS, usedS, verified, emergency) => {
          const credential = old({ graceUntil: new Date(cutoverAt + graceMinutes * MIN).toISOString(), emergency });
          const lastUsedAtMs = usedS === undefined ? undefined : cutoverAt + Math.min(usedS, nowS) * 1000;
          const at = (ms: number) => retirementDecision(credential, facts(ms, { consumersVerified: verified, lastUsedAtMs }));
          const nowMs = cutoverAt + nowS * 1000;
          const decision = at(nowMs);
          const graceEnded = nowMs >= cutoverAt + graceMinutes * MIN;
          if (graceEnded) expect(decision.retire).toBe(true);
          if (decision.retire && !graceEnded) {
            expect(verified).toBe(true);
            if (!emergency) expect(nowMs).toBeGreaterThanOrEqual(cutoverAt + HORIZON);
          }
          if (decision.retire) expect(at(nowMs + 7 * MIN).retire).toBe(true);
          if (!decision.retire) expect(decision.notBeforeMs).toBeGreaterThanOrEqual(nowMs);
        },
      ),
    );
  });
});

describe('afterRetirement and isStuck', () => {
  it('goes idle once the last retiring credential is retired, remembering how', () => {
    const draining = ROTATION_STEPS.reduce((s, step) => run(s, step, 'v1', T0).state, IDLE);
    const retired = afterRetirement(draining, draining.retiring[0], 'grace-ended', new Date(T0 + HORIZON), new Date(T0).toISOString());
    expect(retired.phase).toBe('idle');
    expect(retired.lastRetirement).toMatchObject({ reason: 'grace-ended', lastUsedAt: new Date(T0).toISOString() });
    expect(rotationStatus(retired)).toBe('idle');
  });

  it('calls a rotation stuck only when under way and unmoved for the limit', () => {
    const created = run(IDLE, 'createSecret', 'v1', T0).state;
    expect(isStuck(created, T0 + 29 * MIN, 30 * MIN)).toBe(false);
    expect(isStuck(created, T0 + 30 * MIN, 30 * MIN)).toBe(true);
    expect(isStuck(IDLE, T0 + 999 * MIN, 30 * MIN)).toBe(false);
  });
});
