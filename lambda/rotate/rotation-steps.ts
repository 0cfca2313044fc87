/**
 * The four Secrets Manager rotation steps for a declared key. Each holds the key's lease, asks the
 * plan what to do for its version (rotation-plan.ts), checks the world before it acts, and records
 * the state it reached, so a step retried by SM, or re-run after a crash, resumes where the last
 * one stopped and changes nothing twice.
 *
 *   createSecret  a new credential, stored as the secret's AWSPENDING version
 *   setSecret     the key service accepts it too (pending credential); every written consumer gets it
 *   testSecret    the key service verifies it for each of the key's permissions; every consumer is read back
 *   finishSecret  AWSCURRENT moves to it; it becomes the key's current credential; the old one enters grace
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { hashCredential } from '../keys/credential-hash';
import { type Environment, isEnvironment } from '../keys/environments';
import { generateKey } from '../keys/key-format';
import type { DeclaredKey, KeyPort, SecretPort, SecretValue, SpecPort, VerifierPort, WrittenConsumer } from './ports';
import { RotationError, safeMessage } from './rotation-errors';
import { afterFailure, afterRetirement, afterStep, decideStep, inProgress, type RetiringCredential, type RotationState, type RotationStep } from './rotation-plan';
import { type RotationRecordStore, withKeyLease } from './rotation-record';
import type { AuditRecorder } from '../audit/audit-recorder';
import { auditRotation } from './rotation-audit';

export interface RotationDeps {
  readonly secrets: SecretPort;
  readonly keys: KeyPort;
  readonly specs: SpecPort;
  readonly verifier: VerifierPort;
  readonly records: RotationRecordStore;
  readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly clock: () => Date;
  /** Who takes the lease, e.g. `rotation:<request id>`. */
  readonly leaseOwner: string;
  /** @default 90_000 (the Lambda's timeout is 60 s) */
  readonly leaseMs?: number;
  /**
   * How long a step waits for the key's lease while a sweep, another step or a deploy holds it,
   * before it fails with KEY_BUSY (and Secrets Manager retries the rotation, maybe much later).
   * @default 10_000
   */
  readonly leaseWaitMs?: number;
  /** Records rotation events in the audit log (never failing a step). @default none */
  readonly audit?: Pick<AuditRecorder, 'event'>;
}

export interface StepEvent {
  readonly step: RotationStep;
  readonly secretId: string;
  readonly token: string;
}

/** `keyroll/<tenant>/<name>`: the only secrets the rotation acts on. */
export function declaredKeyOfSecret(secretName: string): { tenant: string; name: string } | undefined {
  const match = /^keyroll\/([a-z0-9][a-z0-9-]{0,62})\/([a-z0-9][a-z0-9-]{0,62})$/.exec(secretName);
  return match ? { tenant: match[1], name: match[2] } : undefined;
}

/** Runs one step; throws (so SM records RotationFailed and retries) when it cannot complete. */
export async function runStep(deps: RotationDeps, event: StepEvent): Promise<void> {
  const secret = await deps.secrets.describe(event.secretId);
  const declared = declaredKeyOfSecret(secret.name);
  if (!declared) {
    throw new RotationError('NOT_DECLARED', `Secret ${secret.name} is not a keyroll key's secret (keyroll/<tenant>/<name>).`, {
      step: event.step,
      fix: 'Configure rotation with keyroll-rotation only on secrets that keys as code created.',
    });
  }
  const log = deps.log;
  const wait = { waitMs: deps.leaseWaitMs ?? 10_000 };
  await withKeyLease(deps.records, declared.tenant, declared.name, deps.leaseOwner, deps.leaseMs ?? 90_000, async () => {
    const record = await deps.records.get(declared.tenant, declared.name);
    let version = record.version;
    let state = record.state;
    const save = async (next: RotationState) => {
      version = await deps.records.save(declared.tenant, declared.name, next, version);
      state = next;
    };
    try {
      await STEPS[event.step]({ deps, secretArn: secret.arn, currentVersionId: secret.currentVersionId, ...declared, state, token: event.token, save });
      log.info('rotation step done', { step: event.step, tenant: declared.tenant, keyName: declared.name, versionId: event.token, phase: state.phase });
    } catch (error) {
      const failure = {
        // The cause's own stable code where it has one (KEY_REVOKED, GRACE_LIMIT, …), for status.
        code: error instanceof RotationError ? error.code : causeCode(error) ?? 'AWS_REQUEST_FAILED',
        message: safeMessage(error),
        step: event.step,
        ...(error instanceof RotationError && error.details.consumer ? { consumer: error.details.consumer } : {}),
        ...(error instanceof RotationError && error.details.fix ? { fix: error.details.fix } : {}),
        at: deps.clock().toISOString(),
      };
      log.error('rotation step failed', { step: event.step, tenant: declared.tenant, keyName: declared.name, versionId: event.token, code: failure.code, reason: failure.message });
      // Recorded for status, on the rotation it belongs to only, and only while it is under way: a
      // late retry refused after a cutover or a repair must not mark that rotation failed.
      if (state.versionId === event.token && inProgress(state)) {
        await save(afterFailure(state, failure)).catch(() => undefined);
        const detail = `${event.step} failed for Secrets Manager version ${event.token}: ${failure.code}: ${failure.message}`;
        await auditRotation(deps, { tenant: declared.tenant, keyId: state.keyId, action: 'rotation.failed', detail });
      }
      throw error instanceof RotationError ? error : new RotationError('AWS_REQUEST_FAILED', failure.message, { step: event.step });
    }
  }, wait);
}

function causeCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : undefined;
}

interface StepContext {
  readonly deps: RotationDeps;
  readonly secretArn: string;
  readonly currentVersionId?: string;
  readonly tenant: string;
  readonly name: string;
  readonly state: RotationState;
  readonly token: string;
  /** Records the state the step reached (versioned; see RotationRecordStore.save). */
  readonly save: (state: RotationState) => Promise<void>;
}

type Step = (context: StepContext) => Promise<void>;

const STEPS: Record<RotationStep, Step> = { createSecret, setSecret, testSecret, finishSecret };

async function createSecret(context: StepContext): Promise<void> {
  const { deps, secretArn, token } = context;
  // SM retried a rotation whose finishSecret already moved AWSCURRENT: nothing left to create.
  if (context.currentVersionId === token) return;
  const decision = decideStep(context.state, 'createSecret', token);
  if (decision.kind === 'refuse') throw outOfOrder('createSecret', decision.reason);
  const current = await currentValue(context);
  if (decision.kind === 'run') {
    if (decision.supersedes) await putConsumersBack(context, decision.supersedes, current);
    // Recorded before the credential exists, so the sweep knows of this rotation even if the run dies next.
    await context.save(afterStep(context.state, 'createSecret', token, deps.clock(), { keyId: current.keyId, emergency: context.state.emergencyRequested ?? false }));
  }
  // Checked even when the state says done: the run that recorded it may have died before storing it.
  const pending = await deps.secrets.read(secretArn, { versionId: token });
  if (!pending) {
    const environment: Environment = isEnvironment(current.environment) ? current.environment : 'production';
    await deps.secrets.putPending(secretArn, token, { ...current, apiKey: generateKey(environment) });
    const detail = `a new credential is stored in Secrets Manager version ${token} of \`${context.name}\`${context.state.emergencyRequested ? ' (emergency)' : ''}`;
    await auditRotation(deps, { tenant: context.tenant, keyId: current.keyId, action: 'rotation.started', detail });
  }
}

async function setSecret(context: StepContext): Promise<void> {
  const { deps, token } = context;
  if (context.currentVersionId === token) return;
  const decision = decideStep(context.state, 'setSecret', token);
  if (decision.kind === 'refuse') throw outOfOrder('setSecret', decision.reason);
  const pending = await pendingValue(context);
  const declared = await declaredKey(context);
  await deps.keys.addPending(pending.tenant, pending.keyId, pending.apiKey, token);
  // Written again on a retry too: a deploy may have put the current credential back in between.
  for (const consumer of declared.consumers) await writeConsumer(consumer, pending.apiKey, 'setSecret', context);
  if (decision.kind === 'run') await context.save(afterStep(context.state, 'setSecret', token, deps.clock()));
}

async function testSecret(context: StepContext): Promise<void> {
  const { deps, secretArn, token } = context;
  const declared = await declaredKey(context);
  const testing = await deps.secrets.read(secretArn, { versionId: token });
  // RotateImmediately=false, or a retry after the cutover: SM tests the configuration on the
  // current credential, and nothing moves.
  if (context.currentVersionId === token || !testing || !inProgress(context.state) || context.state.versionId !== token) {
    const current = await currentValue(context);
    await verifyCredential(deps, declared, current.apiKey);
    await verifyConsumers(declared, current.apiKey);
    return;
  }
  const decision = decideStep(context.state, 'testSecret', token);
  if (decision.kind === 'refuse') throw outOfOrder('testSecret', decision.reason);
  await verifyCredential(deps, declared, testing.apiKey);
  const verified = await verifyConsumers(declared, testing.apiKey);
  if (decision.kind === 'run') await context.save(afterStep(context.state, 'testSecret', token, deps.clock(), { consumersVerified: verified }));
}

async function finishSecret(context: StepContext): Promise<void> {
  const { deps, secretArn, token } = context;
  const decision = decideStep(context.state, 'finishSecret', token);
  if (decision.kind === 'done') return;
  if (decision.kind === 'refuse') throw outOfOrder('finishSecret', decision.reason);
  const pending = await deps.secrets.read(secretArn, { versionId: token });
  if (!pending) throw outOfOrder('finishSecret', `version ${token} holds no credential`);
  const declared = await declaredKey(context);
  const { finished, retiring } = await completeCutover(deps, { secretArn, token, value: pending, graceMinutes: declared.graceMinutes, state: context.state, step: 'finishSecret' });
  await context.save(finished);
  await auditRotation(deps, { tenant: pending.tenant, keyId: pending.keyId, action: 'rotation.cutover', detail: cutoverDetail(token, retiring) });
  // An emergency (a leaked credential) drains nothing: testSecret verified every written consumer
  // on the new credential, so the old one stops now. Reference rules may serve it from their cache.
  if (retiring?.emergency) {
    await deps.keys.retireGrace(pending.tenant, pending.keyId, retiring.hash);
    await context.save(afterRetirement(finished, retiring, 'emergency', deps.clock()));
    await auditRotation(deps, { tenant: pending.tenant, keyId: pending.keyId, action: 'rotation.retired', detail: `old credential ${retiring.start}… retired at the cutover (emergency: no drain)` });
    deps.log.warn('emergency rotation: the old credential is retired with no drain', {
      tenant: pending.tenant,
      keyName: pending.name,
      credentialStart: retiring.start,
      referenceRules: declared.referenceRules,
      note: declared.referenceRules.length > 0 ? 'reference rules may send the old credential from their get_secret cache for up to the cache horizon' : undefined,
    });
  }
}

/** What a cutover entry says: the new version, and until when the old credential works. */
export function cutoverDetail(token: string, retiring: RetiringCredential | undefined): string {
  return retiring
    ? `Secrets Manager version ${token} is current; old credential ${retiring.start}… works until ${retiring.graceUntil} at the latest`
    : `Secrets Manager version ${token} is current`;
}

/**
 * The cutover, for finishSecret and for the sweep when Secrets Manager moved AWSCURRENT but the run
 * died before the key record followed: AWSCURRENT to `token`, the new credential current in the
 * key record, the old one in grace. Returns the state to save (draining) and the old credential
 * it tracks. Repeatable: a run that finds the key already promoted (an earlier run died after
 * promoting, before saving the state) takes the old credential and its grace from the key record,
 * rather than the new credential, or a grace that restarts at every retry.
 */
export async function completeCutover(
  deps: RotationDeps,
  cutover: { secretArn: string; token: string; value: SecretValue; graceMinutes: number; state: RotationState; step: RotationStep | 'sweep' },
): Promise<{ finished: RotationState; retiring?: RetiringCredential }> {
  const { secretArn, token, value, graceMinutes, state } = cutover;
  const before = await deps.keys.get(value.tenant, value.keyId);
  if (!before) {
    throw new RotationError('NOT_DECLARED', `Key ${value.keyId} of tenant \`${value.tenant}\` is gone.`, { step: cutover.step, fix: 'Re-run the deploy, which issues a new key.' });
  }
  const now = deps.clock();
  const graceMs = graceMinutes * 60_000;
  const newHash = hashCredential(value.apiKey);
  const promoted = before.credentialHash === newHash && before.lastRotationToken === token;
  // Promotion appends the old credential to the grace list (none when the grace is 0 minutes).
  const earlier = promoted ? (graceMs > 0 ? before.graceCredentials.at(-1) : undefined) : undefined;
  const graceUntil = earlier ? new Date(earlier.validUntil) : new Date(now.getTime() + graceMs);
  const cutoverAt = earlier ? new Date(graceUntil.getTime() - graceMs) : now;
  // AWSCURRENT first: consumers reading the secret get the new credential, which already works.
  await deps.secrets.moveCurrentTo(secretArn, token);
  await deps.keys.promotePending(value.tenant, value.keyId, token, graceUntil);
  const old = promoted ? earlier && { hash: earlier.hash, start: earlier.start ?? '' } : { hash: before.credentialHash, start: before.start };
  const retiring: RetiringCredential | undefined = old
    ? { ...old, cutoverAt: cutoverAt.toISOString(), graceUntil: graceUntil.toISOString(), emergency: state.emergency ?? false }
    : undefined;
  return { finished: afterStep(state, 'finishSecret', token, cutoverAt, retiring ? { retiring } : {}), ...(retiring ? { retiring } : {}) };
}

async function currentValue(context: StepContext): Promise<SecretValue> {
  const value = await context.deps.secrets.read(context.secretArn, { stage: 'AWSCURRENT' });
  if (!value) {
    throw new RotationError('NOT_DECLARED', `Secret ${context.secretArn} holds no keyroll key yet.`, {
      fix: 'Deploy the key first (cdktf deploy issues it into the secret), then rotate.',
    });
  }
  return value;
}

async function pendingValue(context: StepContext): Promise<SecretValue> {
  const value = await context.deps.secrets.read(context.secretArn, { versionId: context.token });
  if (!value) throw outOfOrder('setSecret', `version ${context.token} holds no credential yet`);
  return value;
}

async function declaredKey(context: StepContext): Promise<DeclaredKey> {
  const declared = await context.deps.specs.read(context.tenant, context.name);
  if (!declared) {
    throw new RotationError('NOT_DECLARED', `No spec declares key \`${context.name}\` of tenant \`${context.tenant}\`.`, {
      fix: 'Declare it in keys.yaml and deploy, or remove the rotation from its secret.',
    });
  }
  return declared;
}

/** Consumer errors that no retry fixes: the resource belongs to someone else. Kept as the rotation's failure code. */
const NOT_OWNED_CODES = new Set(['RULE_NOT_OWNED', 'CONSUMER_NOT_OWNED']);

async function writeConsumer(consumer: WrittenConsumer, credential: string, step: RotationStep | 'sweep', key: { tenant: string; name: string }): Promise<void> {
  try {
    await consumer.write(credential);
  } catch (error) {
    const cause = (error as { code?: string }).code;
    const notOwned = cause !== undefined && NOT_OWNED_CODES.has(cause);
    throw new RotationError(notOwned ? (cause as 'RULE_NOT_OWNED') : 'CONSUMER_WRITE_FAILED', `Could not write the new credential into consumer ${consumer.id}: ${safeMessage(error)}`, {
      step,
      consumer: consumer.id,
      fix: notOwned
        ? `keyroll only writes consumers it created: tag it keyroll:key=${key.tenant}/${key.name} to hand it over, or remove it from the key's consumers in keys.yaml and deploy; then rotate again (keyroll rotate). The old credential keeps working meanwhile.`
        : 'Fix the cause named above, then rotate again (keyroll rotate). The old credential keeps working meanwhile.',
    });
  }
}

async function verifyCredential(deps: RotationDeps, declared: DeclaredKey, credential: string): Promise<void> {
  for (const permission of declared.permissions) {
    const answer = await deps.verifier.check(credential, permission);
    if (!answer.ok) {
      throw new RotationError('VERIFICATION_FAILED', `The key service refused the new credential for ${permission}: ${answer.code}.`, {
        step: 'testSecret',
        fix: 'Check that the rotation Lambda reaches the key service it rotates for (KEYROLL_SERVICE_URL) and that the key is not disabled or expired.',
      });
    }
  }
}

/** Reads every written consumer back; returns their ids, or throws naming the first that differs. */
async function verifyConsumers(declared: DeclaredKey, credential: string): Promise<string[]> {
  const expected = hashCredential(credential);
  const verified: string[] = [];
  for (const consumer of declared.consumers) {
    const held = await consumer.readBackHash();
    if (held !== expected) {
      throw new RotationError('CONSUMER_MISMATCH', `Consumer ${consumer.id} does not hold the credential being tested${held ? ' (it holds another one)' : ' (it holds none)'}.`, {
        step: 'testSecret',
        consumer: consumer.id,
        fix: 'Something else rewrote it (a deploy, or a person); Secrets Manager retries the rotation, which writes it again.',
      });
    }
    verified.push(consumer.id);
  }
  return verified;
}

/**
 * Before a rotation's pending credential is dropped, every written consumer that may hold it goes
 * back to the current credential, so none is left holding one that stops working. A consumer that
 * already holds the current credential is left alone; one that cannot be written (not ours, say)
 * blocks the drop only if it holds the pending credential: otherwise the failure that stopped the
 * rotation would also stop its repair, and the pending credential would stay valid for good.
 */
export async function putConsumersBack(context: { deps: RotationDeps; tenant: string; name: string; secretArn: string }, token: string, current: SecretValue): Promise<void> {
  const { deps } = context;
  const declared = await deps.specs.read(context.tenant, context.name);
  const currentHash = hashCredential(current.apiKey);
  const pendingHashes = new Set<string>();
  const version = await deps.secrets.read(context.secretArn, { versionId: token });
  if (version && version.apiKey !== current.apiKey) pendingHashes.add(hashCredential(version.apiKey));
  const key = await deps.keys.get(current.tenant, current.keyId);
  if (key?.pendingCredential?.rotationToken === token) pendingHashes.add(key.pendingCredential.hash);
  for (const consumer of declared?.consumers ?? []) {
    const held = await consumer.readBackHash().catch(() => undefined);
    if (held === currentHash) continue;
    try {
      await writeConsumer(consumer, current.apiKey, 'sweep', context);
    } catch (error) {
      if (held === undefined || pendingHashes.has(held)) throw error;
      deps.log.warn('left a consumer as it is: it does not hold the credential being dropped, and keyroll cannot write it', {
        tenant: context.tenant,
        keyName: context.name,
        consumer: consumer.id,
        reason: safeMessage(error),
      });
    }
  }
  await deps.keys.dropPending(current.tenant, current.keyId, token);
}

function outOfOrder(step: RotationStep, reason: string): RotationError {
  return new RotationError('STEP_OUT_OF_ORDER', `${step} cannot run: ${reason}.`, { step, fix: 'Secrets Manager retries the rotation from createSecret on its own.' });
}
