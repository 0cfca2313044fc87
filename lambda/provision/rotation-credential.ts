/**
 * What a deploy does while a rotation of the key is under way, so the deploy never undoes it.
 *
 * The rule: while a rotation is in progress (createSecret ran, finishSecret has not), a deploy only
 * keeps the key (its configuration may still change); one that would issue, replace or regenerate
 * it fails with ROTATION_IN_PROGRESS and changes nothing. A kept key's written consumers get the
 * credential the rotation has them on: the pending one once setSecret has run (phase `set` or
 * `tested`; testSecret then reads them back holding it), else the current one. The secret itself is
 * never touched by this: AWSCURRENT stays the current credential and AWSPENDING the rotation's.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWSPENDING, readSecretVersion } from '../handout/key-secret';
import { hashCredential } from '../keys/credential-hash';
import type { ApiKeyRecord } from '../keys/key-record';
import { inProgress, type RotationState } from '../rotate/rotation-plan';
import { provisionErrors } from './errors';
import type { KeyPlan } from './key-plan';

/** Which credential written consumers hold at this point of a rotation. Pure. */
export function consumersHold(state: RotationState): 'current' | 'pending' {
  return inProgress(state) && (state.phase === 'set' || state.phase === 'tested') ? 'pending' : 'current';
}

/** Throws ROTATION_IN_PROGRESS when a rotation is under way and the plan is not to keep the key. */
export function assertPlanFitsRotation(plan: KeyPlan, state: RotationState, tenant: string, name: string): void {
  if (!inProgress(state) || plan.kind === 'keep') return;
  throw provisionErrors.rotationInProgress(tenant, name, state.phase, state.versionId, NEEDS[plan.kind]);
}

const NEEDS: Record<Exclude<KeyPlan['kind'], 'keep'>, string> = {
  issue: 'issue a new key',
  replace: 'replace the key (a field it cannot change did)',
  regenerate: 'regenerate the key (the secret no longer opens it)',
};

/**
 * The credential to write into the kept key's consumers: `current` (the secret's AWSCURRENT), or
 * the rotation's pending credential (its AWSPENDING version) once setSecret has run. The pending one
 * is only handed out when it is the key's and the key accepts it; otherwise (a rotation of another
 * key, or one being repaired) the current one, which the key always accepts.
 */
export async function credentialForConsumers(
  deps: { readonly secrets: SecretsManagerClient; readonly log: Pick<Logger, 'info' | 'warn'> },
  secretArn: string,
  key: ApiKeyRecord,
  current: string,
  state: RotationState,
): Promise<string> {
  if (consumersHold(state) === 'current' || !state.versionId) return current;
  const pending = await readSecretVersion(deps.secrets, secretArn, { versionId: state.versionId, stage: AWSPENDING });
  const usable =
    pending.status === 'present' &&
    pending.value.keyId === key.id &&
    pending.value.tenant === key.tenant &&
    key.pendingCredential?.hash === hashCredential(pending.value.apiKey);
  if (!usable) {
    deps.log.warn("a rotation is under way, but its pending credential is not the key's; writing the current credential into consumers", {
      keyId: key.id,
      versionId: state.versionId,
      phase: state.phase,
    });
    return current;
  }
  deps.log.info('a rotation is under way: writing its pending credential into consumers, as its setSecret did', { keyId: key.id, versionId: state.versionId });
  return pending.value.apiKey;
}
