/**
 * The rotation state machine of one declared key, as pure functions: what a Secrets Manager step
 * must do given the stored state, how the state moves, when the sweep may retire the old credential,
 * and when a rotation counts as stuck. No I/O: the rotation Lambda reads the state, asks these, acts,
 * and writes the state these return.
 *
 *   idle ──createSecret──▶ created ──setSecret──▶ set ──testSecret──▶ tested ──finishSecret──▶ draining ──sweep──▶ idle
 *     ▲                        └──────────── a step fails: `failure` recorded, SM retries ───────┘
 *     └──── stuck (no progress for the stuck limit): the sweep repairs, back to idle with the failure kept;
 *           that version never starts again (a new rotation is a new version)
 */

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
export const ROTATION_STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

/** Where a key's rotation stands: the last step that completed for `versionId`. */
export type RotationPhase = 'idle' | 'created' | 'set' | 'tested' | 'draining';

/** What `keyroll rotation status` shows. */
export type RotationStatus = 'idle' | 'rotating' | 'draining' | 'failed';

export interface RotationFailure {
  /** Stable code, e.g. RULE_NOT_OWNED, CONSUMER_MISMATCH, STUCK. */
  readonly code: string;
  readonly message: string;
  readonly step?: RotationStep | 'sweep';
  /** The consumer that could not be moved, e.g. `iot-rule-inline:acme_legacy`. */
  readonly consumer?: string;
  /** What a human does about it. */
  readonly fix?: string;
  /** ISO-8601. */
  readonly at: string;
}

/** An old credential waiting for the sweep after a cutover. */
export interface RetiringCredential {
  readonly hash: string;
  /** Display prefix, for status and logs. */
  readonly start: string;
  /** ISO-8601: when the new credential became current. */
  readonly cutoverAt: string;
  /** ISO-8601: the user's security bound, cutover + graceMinutes. */
  readonly graceUntil: string;
  /** Retire as soon as written consumers are verified, with no drain (a leaked key). */
  readonly emergency: boolean;
}

export interface RotationState {
  readonly phase: RotationPhase;
  /** The Secrets Manager version id (ClientRequestToken) of the rotation in progress or last finished. */
  readonly versionId?: string;
  /** The key being rotated. */
  readonly keyId?: string;
  /** ISO-8601: when this version's createSecret ran. */
  readonly startedAt?: string;
  /** ISO-8601: when the state last moved (the stuck check measures from here). */
  readonly updatedAt?: string;
  /** Written consumers (ids like `iot-rule-inline:<rule>`) read back holding the new credential. */
  readonly consumersVerified: readonly string[];
  /** Old credentials still in grace, oldest first. */
  readonly retiring: readonly RetiringCredential[];
  /** Whether the rotation in progress retires with no drain. */
  readonly emergency?: boolean;
  /** Set by `keyroll rotate --emergency` before it calls RotateSecret; the next createSecret takes it up. */
  readonly emergencyRequested?: boolean;
  /** The last failure; cleared by the next successful cutover. */
  readonly failure?: RotationFailure;
  /** ISO-8601, the last cutover. */
  readonly lastRotatedAt?: string;
  /** The last retirement, and whether the old credential was still in use then. */
  readonly lastRetirement?: { readonly start: string; readonly at: string; readonly reason: RetirementReason; readonly lastUsedAt?: string };
}

export const IDLE: RotationState = { phase: 'idle', consumersVerified: [], retiring: [] };

/** What a step must do for `token`, given the state. */
export type StepDecision =
  /** Run the step; `supersedes` names an unfinished rotation of another version whose pending credential must be dropped first. */
  | { readonly kind: 'run'; readonly supersedes?: string }
  /** The step already completed for this token (SM retried it): answer success, change nothing. */
  | { readonly kind: 'done' }
  /** A step out of order for this token (e.g. finishSecret before testSecret): fail, SM retries the rotation. */
  | { readonly kind: 'refuse'; readonly reason: string };

const ORDER: Record<RotationPhase, number> = { idle: 0, created: 1, set: 2, tested: 3, draining: 4 };
const AFTER_STEP: Record<RotationStep, RotationPhase> = { createSecret: 'created', setSecret: 'set', testSecret: 'tested', finishSecret: 'draining' };

/** Whether `phase` is a rotation under way (a pending credential may exist). */
export function inProgress(state: RotationState): boolean {
  return state.phase === 'created' || state.phase === 'set' || state.phase === 'tested';
}

export function decideStep(state: RotationState, step: RotationStep, token: string): StepDecision {
  const target = ORDER[AFTER_STEP[step]];
  if (state.versionId !== token) {
    // A new version. Only createSecret starts one; an unfinished rotation of another version was
    // abandoned (SM allows one AWSPENDING), so its pending credential goes first.
    if (step !== 'createSecret') return { kind: 'refuse', reason: `${step} for version ${token}, but its createSecret has not run` };
    return inProgress(state) && state.versionId ? { kind: 'run', supersedes: state.versionId } : { kind: 'run' };
  }
  const reached = ORDER[state.phase];
  if (state.phase === 'idle') {
    // Finished, and drained since (or retired at once, in an emergency): a late SM retry of any
    // step has nothing left to do, and must not fail a rotation that succeeded.
    if (finished(state)) return { kind: 'done' };
    // The sweep rolled this version back (stuck or abandoned): its credential was dropped for good,
    // so a late SM retry must not start it again. The next rotation gets a version of its own.
    return { kind: 'refuse', reason: `${step} for version ${token}, which the sweep rolled back; start a new rotation (keyroll rotate)` };
  }
  if (reached >= target) return { kind: 'done' };
  // Steps re-run from the first one on every SM retry, so the next step is the only one allowed.
  if (reached + 1 < target) return { kind: 'refuse', reason: `${step} for version ${token} before ${nextStep(state.phase)}` };
  return { kind: 'run' };
}

/** Whether the state's version reached its cutover: finishSecret stamps lastRotatedAt, no earlier than its createSecret. */
function finished(state: RotationState): boolean {
  return state.lastRotatedAt !== undefined && state.startedAt !== undefined && state.lastRotatedAt >= state.startedAt;
}

function nextStep(phase: RotationPhase): RotationStep {
  return ROTATION_STEPS[ORDER[phase]];
}

/** The state after `step` completed for `token`. */
export function afterStep(
  state: RotationState,
  step: RotationStep,
  token: string,
  now: Date,
  details: { keyId?: string; consumersVerified?: readonly string[]; retiring?: RetiringCredential; emergency?: boolean } = {},
): RotationState {
  const at = now.toISOString();
  const { emergencyRequested: _taken, ...untaken } = state;
  const base: RotationState =
    step === 'createSecret'
      ? {
          ...untaken,
          phase: 'created',
          versionId: token,
          startedAt: at,
          consumersVerified: [],
          ...(details.keyId ? { keyId: details.keyId } : {}),
          emergency: details.emergency ?? false,
        }
      : { ...state, phase: AFTER_STEP[step] };
  const verified = details.consumersVerified ? { consumersVerified: [...details.consumersVerified] } : {};
  if (step !== 'finishSecret') return { ...base, ...verified, updatedAt: at };
  const { failure: _cleared, ...rest } = base;
  return {
    ...rest,
    ...verified,
    updatedAt: at,
    lastRotatedAt: at,
    retiring: details.retiring ? [...state.retiring.filter((r) => r.hash !== details.retiring!.hash), details.retiring] : state.retiring,
  };
}

/** The state once an emergency rotation was asked for: the next rotation to start retires with no drain. */
export function withEmergencyRequested(state: RotationState): RotationState {
  return { ...state, emergencyRequested: true };
}

/** The state after a step failed: the phase stays (SM retries from createSecret, which is then `done`). */
export function afterFailure(state: RotationState, failure: RotationFailure): RotationState {
  return { ...state, failure, updatedAt: failure.at };
}

export function rotationStatus(state: RotationState): RotationStatus {
  if (inProgress(state)) return state.failure ? 'failed' : 'rotating';
  if (state.retiring.length > 0) return 'draining';
  return state.failure ? 'failed' : 'idle';
}

export type RetirementReason = 'drained' | 'grace-ended' | 'emergency';

export interface RetirementFacts {
  readonly nowMs: number;
  /** The consumer cache horizon (get_secret caches for up to 15 minutes). */
  readonly horizonMs: number;
  /**
   * How late a use can show in `lastUsedAt` (usage is written in batches): a credential counts as
   * unused for the horizon only when no use could still be on its way.
   */
  readonly usageLagMs: number;
  /** Every written consumer was read back holding the new credential. */
  readonly consumersVerified: boolean;
  /** The old credential's last use, epoch ms. */
  readonly lastUsedAtMs?: number;
}

export type RetirementDecision =
  | { readonly retire: true; readonly reason: RetirementReason; readonly stillInUse: boolean }
  | { readonly retire: false; readonly waitingFor: 'consumers' | 'horizon' | 'recent-use'; readonly notBeforeMs: number };

/**
 * When the sweep retires `old`: at the earliest moment when every written consumer holds the new
 * credential, the horizon has passed since cutover (reference consumers may serve the old one from
 * their cache until then), and the old credential has not been used for a horizon; at the latest
 * at `graceUntil`, whatever still uses it. An emergency rotation waits for the consumers only.
 */
export function retirementDecision(old: RetiringCredential, facts: RetirementFacts): RetirementDecision {
  const { nowMs, horizonMs, usageLagMs } = facts;
  const graceUntilMs = Date.parse(old.graceUntil);
  const recentlyUsed = facts.lastUsedAtMs !== undefined && nowMs - facts.lastUsedAtMs < horizonMs;
  if (old.emergency && facts.consumersVerified) return { retire: true, reason: 'emergency', stillInUse: recentlyUsed };
  if (nowMs >= graceUntilMs) return { retire: true, reason: 'grace-ended', stillInUse: recentlyUsed };
  if (!facts.consumersVerified) return { retire: false, waitingFor: 'consumers', notBeforeMs: nowMs };
  const drainedAtMs = Date.parse(old.cutoverAt) + horizonMs + usageLagMs;
  if (nowMs < drainedAtMs) return { retire: false, waitingFor: 'horizon', notBeforeMs: Math.min(drainedAtMs, graceUntilMs) };
  // Unused for a horizon, counting only uses that had time to be written.
  if (facts.lastUsedAtMs !== undefined && facts.lastUsedAtMs > nowMs - usageLagMs - horizonMs) {
    return { retire: false, waitingFor: 'recent-use', notBeforeMs: Math.min(facts.lastUsedAtMs + horizonMs + usageLagMs, graceUntilMs) };
  }
  return { retire: true, reason: 'drained', stillInUse: false };
}

/** The state after the sweep retired `old`. */
export function afterRetirement(state: RotationState, old: RetiringCredential, reason: RetirementReason, now: Date, lastUsedAt?: string): RotationState {
  const at = now.toISOString();
  const retiring = state.retiring.filter((r) => r.hash !== old.hash);
  return {
    ...state,
    phase: state.phase === 'draining' && retiring.length === 0 ? 'idle' : state.phase,
    retiring,
    updatedAt: at,
    lastRetirement: { start: old.start, at, reason, ...(lastUsedAt ? { lastUsedAt } : {}) },
  };
}

/**
 * Whether a rotation under way has made no progress for `stuckAfterMs`: SM gave up retrying, or
 * the rotation was abandoned. The sweep then repairs it.
 */
export function isStuck(state: RotationState, nowMs: number, stuckAfterMs: number): boolean {
  if (!inProgress(state)) return false;
  const since = Date.parse(state.updatedAt ?? state.startedAt ?? '');
  return Number.isNaN(since) || nowMs - since >= stuckAfterMs;
}

/** The state after a stuck rotation was repaired: idle (or draining an earlier one), the failure kept for status. */
export function afterRepair(state: RotationState, failure: RotationFailure): RotationState {
  return {
    ...state,
    phase: state.retiring.length > 0 ? 'draining' : 'idle',
    consumersVerified: [],
    emergency: false,
    failure,
    updatedAt: failure.at,
  };
}

/**
 * The state once the key itself is revoked or gone (its declaration destroyed): nothing is left to
 * rotate or retire, since revoking took every credential with it. The last failure and retirement
 * stay for the record.
 */
export function afterKeyGone(state: RotationState, now: Date): RotationState {
  return { ...state, phase: 'idle', consumersVerified: [], retiring: [], emergency: false, updatedAt: now.toISOString() };
}
