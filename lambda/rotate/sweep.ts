/**
 * The sweep: run on a schedule (EventBridge Scheduler, every 5 minutes by default) and on demand
 * (`keyroll rotation sweep`). For each key in the index of active rotations it retires old
 * credentials whose time has come (rotation-plan.ts `retirementDecision`), finishes a cutover that
 * Secrets Manager made but the key record missed, and repairs rotations that are stuck: consumers
 * back on the current credential, the pending credential dropped, AWSPENDING removed, the status
 * failed with the reason. A failed rotation never revokes the old credential.
 */
import type { RetirementReason, RotationState } from './rotation-plan';
import { afterKeyGone, afterRepair, afterRetirement, inProgress, isStuck, retirementDecision } from './rotation-plan';
import { safeMessage } from './rotation-errors';
import { KeyBusyError, withKeyLease } from './rotation-record';
import { completeCutover, cutoverDetail, putConsumersBack, type RotationDeps } from './rotation-steps';
import { auditRotation } from './rotation-audit';

export interface SweepDeps extends RotationDeps {
  /** The consumer cache horizon (KEYROLL_CONSUMER_CACHE_SECONDS). */
  readonly horizonMs: number;
  /** How late a use can reach lastUsedAt (usage is written in batches). @default 30_000 */
  readonly usageLagMs?: number;
  /** A rotation under way that has not moved for this long is stuck. @default 30 minutes */
  readonly stuckAfterMs?: number;
}

export interface SweepOutcome {
  readonly tenant: string;
  readonly name: string;
  /** What the sweep did, or why it did nothing. */
  readonly action: 'retired' | 'repaired' | 'finished' | 'waiting' | 'busy' | 'error';
  readonly detail?: string;
  readonly retired?: { readonly start: string; readonly reason: RetirementReason; readonly stillInUse: boolean; readonly lastUsedAt?: string };
}

export interface SweepReport {
  readonly checked: number;
  readonly outcomes: readonly SweepOutcome[];
}

export async function sweep(deps: SweepDeps, onProgress: (outcome: SweepOutcome) => void = () => undefined): Promise<SweepReport> {
  const active = await deps.records.listActive();
  const outcomes: SweepOutcome[] = [];
  for (const { tenant, name } of active) {
    let outcome: SweepOutcome;
    try {
      outcome = await withKeyLease(deps.records, tenant, name, deps.leaseOwner, deps.leaseMs ?? 90_000, () => sweepKey(deps, tenant, name));
    } catch (error) {
      outcome =
        error instanceof KeyBusyError
          ? { tenant, name, action: 'busy', detail: 'a rotation step or deploy holds the key; the next sweep looks again' }
          : { tenant, name, action: 'error', detail: safeMessage(error) };
      if (outcome.action === 'error') deps.log.error('sweep of a key failed', { tenant, keyName: name, reason: outcome.detail });
    }
    outcomes.push(outcome);
    onProgress(outcome);
  }
  return { checked: active.length, outcomes };
}

async function sweepKey(deps: SweepDeps, tenant: string, name: string): Promise<SweepOutcome> {
  const record = await deps.records.get(tenant, name);
  let version = record.version;
  let state: RotationState = record.state;
  const save = async (next: RotationState) => {
    version = await deps.records.save(tenant, name, next, version);
    state = next;
  };
  const now = deps.clock();
  const key = state.keyId ? await deps.keys.get(tenant, state.keyId) : undefined;

  if (state.keyId && (!key || key.revokedAt)) {
    // Destroyed (or revoked by hand): its secret may be gone too, and every credential went with
    // the key, so the record leaves the sweep's index instead of failing every sweep from now on.
    await closeForGoneKey(deps, tenant, name, state);
    await save(afterKeyGone(state, now));
    deps.log.info('closed the rotation record of a key that is revoked or gone', { tenant, keyName: name, keyId: state.keyId });
    return { tenant, name, action: 'repaired', detail: `key ${state.keyId} is revoked or gone: nothing left to rotate or retire` };
  }

  // A live key whose secret is gone is an error to show (every sweep), not something to skip.
  const secret = await deps.secrets.describe(`keyroll/${tenant}/${name}`);
  if (inProgress(state) && state.versionId) {
    const token = state.versionId;
    // SM moved AWSCURRENT but the run died before the key record followed: finish the cutover.
    if (secret.currentVersionId === token && state.phase === 'tested') {
      await finishCutover(deps, secret.arn, tenant, name, state, save);
      return { tenant, name, action: 'finished', detail: `completed the cutover of version ${token}` };
    }
    const abandoned = secret.pendingVersionId !== token && secret.currentVersionId !== token;
    if (abandoned || isStuck(state, now.getTime(), deps.stuckAfterMs ?? 30 * 60_000)) {
      await repair(deps, secret.arn, tenant, name, state, save, abandoned ? 'abandoned' : 'stuck');
      return { tenant, name, action: 'repaired', detail: state.failure?.message };
    }
    return { tenant, name, action: 'waiting', detail: `rotation of version ${token} is under way (${state.phase})` };
  }

  const declared = await deps.specs.read(tenant, name);
  let retired: SweepOutcome['retired'];
  for (const old of state.retiring) {
    // Read back now, not trusted from testSecret: a deploy may have written something else since.
    let consumersVerified = key !== undefined;
    for (const consumer of declared?.consumers ?? []) {
      if (!key || (await consumer.readBackHash()) !== key.credentialHash) consumersVerified = false;
    }
    const lastUsedAt = (await deps.keys.credentialLastUsed([old.hash])).get(old.hash);
    const decision = retirementDecision(old, {
      nowMs: now.getTime(),
      horizonMs: deps.horizonMs,
      usageLagMs: deps.usageLagMs ?? 30_000,
      consumersVerified,
      ...(lastUsedAt ? { lastUsedAtMs: Date.parse(lastUsedAt) } : {}),
    });
    if (!decision.retire) continue;
    if (key) await deps.keys.retireGrace(tenant, key.id, old.hash);
    if (decision.stillInUse) {
      deps.log.warn('retired an old credential that was still in use: something keyroll does not know of holds it', {
        tenant,
        keyName: name,
        credentialStart: old.start,
        lastUsedAt,
        reason: decision.reason,
      });
    } else {
      deps.log.info('old credential retired', { tenant, keyName: name, credentialStart: old.start, reason: decision.reason });
    }
    await save(afterRetirement(state, old, decision.reason, now, lastUsedAt));
    const inUse = decision.stillInUse ? `, still in use (last used ${lastUsedAt})` : '';
    await auditRotation(deps, { tenant, keyId: key?.id ?? state.keyId, key, action: 'rotation.retired', detail: `old credential ${old.start}… retired (${decision.reason}${inUse})` });
    retired = { start: old.start, reason: decision.reason, stillInUse: decision.stillInUse, ...(lastUsedAt ? { lastUsedAt } : {}) };
  }
  if (retired) return { tenant, name, action: 'retired', retired };
  return { tenant, name, action: 'waiting', detail: 'the old credential is still draining' };
}

async function finishCutover(
  deps: SweepDeps,
  secretArn: string,
  tenant: string,
  name: string,
  state: RotationState,
  save: (state: RotationState) => Promise<void>,
): Promise<void> {
  const token = state.versionId!;
  const value = await deps.secrets.read(secretArn, { versionId: token });
  if (!value) throw new Error(`version ${token} of secret ${secretArn} holds no credential`);
  const declared = await deps.specs.read(tenant, name);
  const { finished, retiring } = await completeCutover(deps, { secretArn, token, value, graceMinutes: declared?.graceMinutes ?? 0, state, step: 'sweep' });
  await save(finished);
  await auditRotation(deps, { tenant, keyId: value.keyId, action: 'rotation.cutover', detail: `${cutoverDetail(token, retiring)} (completed by the sweep)` });
  deps.log.warn('completed a cutover that Secrets Manager made but the rotation did not finish', { tenant, keyName: name, versionId: token });
}

/** A rotation left under way on a key that is gone: its AWSPENDING label goes, if the secret is still there. */
async function closeForGoneKey(deps: SweepDeps, tenant: string, name: string, state: RotationState): Promise<void> {
  if (!inProgress(state) || !state.versionId) return;
  try {
    const secret = await deps.secrets.describe(`keyroll/${tenant}/${name}`);
    if (secret.pendingVersionId === state.versionId) await deps.secrets.removePending(secret.arn, state.versionId);
  } catch (error) {
    // The secret is gone with the key: nothing to clear.
    if (!/ResourceNotFoundException|can.t find/i.test(safeMessage(error))) throw error;
  }
}

/** Puts a stuck or abandoned rotation back: the current credential stays, everywhere. */
async function repair(
  deps: SweepDeps,
  secretArn: string,
  tenant: string,
  name: string,
  state: RotationState,
  save: (state: RotationState) => Promise<void>,
  why: 'stuck' | 'abandoned',
): Promise<void> {
  const token = state.versionId!;
  const current = await deps.secrets.read(secretArn, { stage: 'AWSCURRENT' });
  if (!current) throw new Error(`secret ${secretArn} holds no current key`);
  try {
    await putConsumersBack({ deps, tenant, name, secretArn }, token, current);
  } catch (error) {
    // Still record the failure, so status says what is wrong; the next sweep tries again.
    deps.log.error('repairing a stuck rotation failed', { tenant, keyName: name, versionId: token, reason: safeMessage(error) });
    throw error;
  }
  await deps.secrets.removePending(secretArn, token);
  const cause = state.failure ? ` The last error: ${state.failure.message}` : '';
  const message =
    why === 'abandoned'
      ? `The rotation of version ${token} was abandoned (its AWSPENDING version is gone); keyroll put every consumer back on the current credential.${cause}`
      : `The rotation of version ${token} made no progress since ${state.updatedAt ?? state.startedAt}; keyroll put every consumer back on the current credential and dropped the new one.${cause}`;
  await save(
    afterRepair(state, {
      code: state.failure?.code ?? 'STUCK',
      message,
      step: 'sweep',
      ...(state.failure?.consumer ? { consumer: state.failure.consumer } : {}),
      fix: state.failure?.fix ?? 'Fix the cause, then start a new rotation with `keyroll rotate`. The current credential kept working throughout.',
      at: deps.clock().toISOString(),
    }),
  );
  deps.log.warn('repaired a stuck rotation', { tenant, keyName: name, versionId: token, why });
  await auditRotation(deps, { tenant, keyId: state.keyId ?? current.keyId, action: 'rotation.failed', detail: message });
}
