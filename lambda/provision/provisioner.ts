/**
 * The provisioner: the Terraform adapter that makes a declared key real on create and update, and
 * takes it away on delete. It parses the event `aws_lambda_invocation` sends and, holding the key's
 * lease (so no rotation step runs meanwhile), reads the spec, the key's secret, what it provisioned
 * before and the key's rotation state; decides with key-plan.ts; issues, reconfigures, replaces or
 * revokes the key; and hands it out through lambda/handout/ (the secret first, then every written
 * consumer). Every failure leaves as a ProvisionError whose message Terraform shows. Never logs,
 * returns or throws the key itself.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { IoTClient } from '@aws-sdk/client-iot';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEPLOY_ACTOR } from '../audit/audit-log';
import { AuditRecorder } from '../audit/audit-recorder';
import { auditedKeyStore } from '../audit/audited-key-store';
import { AWS_CLIENT_CONFIG } from '../handout/aws-client-config';
import { awsCall } from '../handout/aws-errors';
import { Compensation, concurrentRecord } from '../handout/compensation';
import { type ConsumerOwner, consumerOwner, OWNER_TAG } from '../handout/consumers/consumer-owner';
import { consumerRefOf, uniqueConsumers } from '../handout/consumers/consumer-ref';
import { removeConsumers, writeConsumers } from '../handout/consumers/consumer-set';
import type { ConsumerRef, ConsumerWriter } from '../handout/consumers/consumer-writer';
import { type ConsumerClients, consumerClients, createConsumerWriter, type WritableConsumer } from '../handout/consumers/registry';
import { isProvisioned, type KeyRef, refOf, supersededKeys } from '../handout/key-ref';
import { keySecretValue, readKeySecret, sameSecretValue, writeKeySecret } from '../handout/key-secret';
import { PendingKeyRecord } from '../handout/pending-key';
import { isConcurrentApply, NO_RECORD_VERSION, ProvisionedKeyStore, recordedKeys } from '../handout/provisioned-key';
import type { ApiKeyRecord, DeclaredKey } from '../keys/key-record';
import { newKeyId } from '../keys/key-transitions';
import { KeyManager } from '../manage/key-manager';
import { RotationRecordStore } from '../rotate/rotation-record';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbAuditLog } from '../store/dynamodb-audit-log';
import { DynamoDbKeyStore } from '../store/dynamodb-key-store';
import { tableNamesFromEnv } from '../store/table-names';
import { ProvisionError, provisionErrors, toSafeError, withNote } from './errors';
import { drainKey, keyCall, revokeKey } from './key-calls';
import { holdingKeyLease } from './key-lease';
import { planKey, secretRef, staleConsumers } from './key-plan';
import { createInputFromSpec, type KeySpec, type ProvisionResult } from './key-spec';
import { logPlan } from './plan-log';
import { type ProvisionEvent, parseProvisionEvent } from './provision-event';
import { assertPlanFitsRotation, credentialForConsumers } from './rotation-credential';
import { readSpec, readSpecIfReadable } from './spec-reader';
import { consumerCacheSecondsFromEnv, disposeSuperseded } from './superseded-keys';

export interface ProvisionerOptions {
  /**
   * Client for the keys table (specs, keys, rotation records and what was provisioned).
   * @default createDocumentClient()
   */
  readonly documentClient?: DynamoDBDocumentClient;
  /**
   * Client for the secrets that hand keys to consumers.
   * @default new SecretsManagerClient(AWS_CLIENT_CONFIG)
   */
  readonly secrets?: SecretsManagerClient;
  /**
   * Client for the inline consumers' topic rules (the same as `consumerClients.iot`).
   * @default new IoTClient(AWS_CLIENT_CONFIG)
   */
  readonly iot?: IoTClient;
  /** Clients of the consumer writers (IoT, Lambda, SSM). @default each made with AWS_CLIENT_CONFIG */
  readonly consumerClients?: Partial<ConsumerClients>;
  /**
   * The keys table.
   * @default tableNamesFromEnv().keys, i.e. KEYROLL_KEYS_TABLE
   */
  readonly keysTable?: string;
  /**
   * How long a key replaced while reference rules may still send it from their `get_secret` cache
   * keeps working (see superseded-keys.ts).
   * @default KEYROLL_CONSUMER_CACHE_SECONDS, else 900
   */
  readonly consumerCacheSeconds?: number;
  /**
   * How long the key's lease lasts should this run die holding it. Longer than the function's timeout.
   * @default 90_000
   */
  readonly leaseMs?: number;
  /**
   * How long an apply or delete waits for a key's lease a rotation step or another deploy holds,
   * before failing with KEY_BUSY.
   * @default 20_000
   */
  readonly leaseWaitMs?: number;
  /** @default new Logger({ serviceName: 'keyroll-provisioner' }) */
  readonly logger?: Logger;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

export interface Provisioner {
  /**
   * Handles one `aws_lambda_invocation` event. Throws a ProvisionError whose message says what to
   * do; Terraform shows it and fails the apply or destroy.
   * @param requestId names this run in the key's lease (`provisioner:<requestId>`). @default a random UUID
   */
  handle(event: unknown, requestId?: string): Promise<ProvisionResult>;
}

interface Deps {
  readonly documentClient: DynamoDBDocumentClient;
  readonly secrets: SecretsManagerClient;
  readonly consumers: ConsumerWriter<WritableConsumer>;
  readonly keysTable: string;
  readonly clock: () => Date;
  readonly keys: DynamoDbKeyStore;
  readonly manager: KeyManager;
  readonly provisioned: ProvisionedKeyStore;
  readonly rotations: RotationRecordStore;
  readonly horizonMs: number;
  readonly leaseMs: number;
  readonly leaseWaitMs: number;
}

/**
 * @example
 * const provisioner = createProvisioner({ keysTable: 'keyroll-keys' });
 * const result = await provisioner.handle({ tenant, name, secretArn, specDigest, tf: { action: 'create', prev_input: null } });
 */
export function createProvisioner(options: ProvisionerOptions = {}): Provisioner {
  const documentClient = options.documentClient ?? createDocumentClient();
  const keysTable = options.keysTable ?? tableNamesFromEnv().keys;
  const clock = options.clock ?? (() => new Date());
  const keys = new DynamoDbKeyStore(documentClient, keysTable);
  const logger = options.logger ?? new Logger({ serviceName: 'keyroll-provisioner' });
  // Every key change a deploy makes (issue, update, regenerate, revoke) is in the audit log, as `deploy`.
  const audit = new AuditRecorder({ log: new DynamoDbAuditLog(documentClient, keysTable), logger, clock });
  const deps: Deps = {
    documentClient,
    secrets: options.secrets ?? new SecretsManagerClient(AWS_CLIENT_CONFIG),
    consumers: createConsumerWriter(consumerClients({ ...(options.iot ? { iot: options.iot } : {}), ...options.consumerClients })),
    keysTable,
    clock,
    keys,
    manager: new KeyManager({ store: auditedKeyStore(keys, audit, DEPLOY_ACTOR), clock }),
    provisioned: new ProvisionedKeyStore(documentClient, keysTable),
    // The same store and clock as the rotation Lambda's: one lease per key for both.
    rotations: new RotationRecordStore(documentClient, keysTable, () => clock().getTime()),
    horizonMs: (options.consumerCacheSeconds ?? consumerCacheSecondsFromEnv()) * 1000,
    leaseMs: options.leaseMs ?? 90_000,
    leaseWaitMs: options.leaseWaitMs ?? 20_000,
  };
  return { handle: (event, requestId = randomUUID()) => handle(deps, logger, event, `provisioner:${requestId}`) };
}

const TABLE_FIX = "Check that KEYROLL_KEYS_TABLE names the keys table and that the provisioner's role may dynamodb:GetItem and UpdateItem on it.";

/**
 * The AWS provider (plugin SDK v2) stores the new input even when an update fails, so the next
 * plan shows no change. See https://github.com/hashicorp/terraform-plugin-sdk/issues/476
 */
const UPDATE_RETRY_NOTE =
  'Terraform records a failed update as applied, so re-running the apply alone will not retry it: after fixing the cause, change the key\'s spec, ' +
  'or apply with -replace on its aws_lambda_invocation (which revokes the key and issues a new one).';

async function handle(deps: Deps, logger: Logger, event: unknown, leaseOwner: string): Promise<ProvisionResult> {
  let log = logger;
  let parsed: ProvisionEvent | undefined;
  try {
    const run = parseProvisionEvent(event);
    parsed = run;
    const runLog = logger.createChild({ persistentKeys: { action: run.action, tenant: run.input.tenant, keyName: run.input.name } });
    log = runLog;
    const lease = { owner: leaseOwner, ttlMs: deps.leaseMs, waitMs: deps.leaseWaitMs, log: runLog };
    const result = await holdingKeyLease(deps.rotations, run.input.tenant, run.input.name, lease, () =>
      run.action === 'delete' ? remove(deps, run, runLog) : apply(deps, run, runLog),
    );
    log.info(run.action === 'delete' ? 'deprovisioned' : 'provisioned', { keyId: result.keyId, secretArn: result.secretArn, inlineRuleArns: [...result.inlineRuleArns] });
    return result;
  } catch (error) {
    const safe = toSafeError(error);
    const where = parsed ? ` (${parsed.action} of key \`${parsed.input.name}\` of tenant \`${parsed.input.tenant}\`)` : '';
    const retry = parsed?.action === 'update' ? ` ${UPDATE_RETRY_NOTE}` : '';
    const failure = new ProvisionError(safe.code, `keyroll provisioner${where}: ${safe.message}${retry}`);
    log.error('provisioning failed', { code: failure.code, reason: failure.message });
    throw failure;
  }
}

/**
 * Create and update: one convergent path, so a retried create and a repeated update both end in the
 * same place. Runs holding the key's lease.
 */
async function apply(deps: Deps, event: ProvisionEvent, log: Logger): Promise<ProvisionResult> {
  const { action, input, previousInput } = event;
  const spec = await readSpec(deps.documentClient, deps.keysTable, input.tenant, input.name);
  if (!spec) throw provisionErrors.specNotFound(input.tenant, input.name, deps.keysTable);
  const consumers = spec.consumers;
  const declaredConsumers = consumers.map(consumerRefOf);
  const records = await PendingKeyRecord.read(deps.provisioned, input, previousInput, deps.clock);
  const provisioned = records.provisioned;
  const secretRead = await readKeySecret(deps.secrets, input.secretArn);
  const secret = secretRead.status === 'present' ? secretRead.value : undefined;
  // Only a key the provisioner issued for this declaration is read, kept or regenerated.
  const held = secret && isProvisioned(secretRef(secret), provisioned) ? secretRef(secret) : undefined;
  const key = held ? await keyCall(`Reading key ${held.keyId}`, () => deps.keys.getKey(held.tenant, held.keyId)) : undefined;
  const plan = planKey(spec, { secret, key, provisioned }, { nowMs: deps.clock().getTime() });
  logPlan(log, plan, secretRead.status === 'absent' ? secretRead.reason : undefined, secret);
  // Read holding the lease, so no rotation step moves it until this run is done.
  const rotation = await awsCall(`Reading the rotation state of key \`${input.name}\` of tenant \`${input.tenant}\``, TABLE_FIX, () => deps.rotations.get(input.tenant, input.name));
  assertPlanFitsRotation(plan, rotation.state, input.tenant, input.name);
  const owner = consumerOwner(input, previousInput);
  const declared: DeclaredKey = { secretArn: input.secretArn, name: spec.name, consumers: spec.consumers.length + spec.referenceRules.length };
  for (const ref of records.settle(held)) {
    log.warn('revoking a key an earlier run issued but never handed out', { keyId: ref.keyId });
    await revokeKey(deps.manager, ref, log);
  }

  let compensation: Compensation | undefined;
  try {
    let record: ApiKeyRecord;
    let apiKey: string;
    /** What written consumers get: the key's credential, unless a rotation has them on its pending one. */
    let handedToConsumers: string | undefined;
    let replaced: ApiKeyRecord | undefined;
    if (plan.kind === 'issue' || plan.kind === 'replace') {
      const id = newKeyId();
      await records.recordPending({ tenant: spec.tenant, keyId: id });
      ({ record, key: apiKey } = await keyCall(`Issuing key \`${spec.name}\``, () => deps.manager.create(spec.tenant, createInputFromSpec(spec), id, { declared })));
      compensation = new Compensation({ ...deps, log }, record, input.secretArn, owner, plan.kind === 'replace' ? secret : undefined);
      replaced = plan.kind === 'replace' ? plan.previous : undefined;
      log.info('key issued', { keyId: record.id });
    } else {
      const kept = plan.key;
      record = plan.changes ? await keyCall(`Updating key ${kept.id}`, () => deps.manager.update(kept.tenant, kept.id, plan.changes!)) : kept;
      // Keys issued before keys carried their declaration get it now (and a renamed key its new name).
      if (record.declared?.secretArn !== declared.secretArn || record.declared.name !== declared.name || record.declared.consumers !== declared.consumers) {
        record = await keyCall(`Marking key ${kept.id} as declared`, () => deps.manager.markDeclared(kept.tenant, kept.id, declared));
      }
      if (plan.kind === 'regenerate') {
        // Zero grace: the secret it replaces no longer opened the key anyway.
        ({ record, key: apiKey } = await keyCall(`Regenerating key ${kept.id}`, () => deps.manager.regenerate(kept.tenant, kept.id, { graceSeconds: 0 })));
      } else {
        apiKey = plan.apiKey;
        handedToConsumers = await credentialForConsumers({ secrets: deps.secrets, log }, input.secretArn, record, apiKey, rotation.state);
      }
    }

    await records.recordHandingOut(compensation ? refOf(record) : undefined, declaredConsumers);
    const value = keySecretValue(record, apiKey);
    if (!sameSecretValue(secret, value)) {
      await writeKeySecret(deps.secrets, input.secretArn, value);
      compensation?.secretWritten();
    }
    const arns = await writeConsumers(deps.consumers, consumers, handedToConsumers ?? apiKey, owner, (consumer) => compensation?.consumerWritten(consumer));
    const inlineRuleArns = arns.filter((_, i) => consumers[i].type === 'iot-rule-inline');

    // The key is handed over. Terraform keeps an updated resource even when the update fails, so
    // from here on a failed update leaves the new key in place; what is left to clean up stays
    // recorded (the record, written last) for the next run. A failed create leaves no resource to
    // destroy later, so it is undone to the end.
    if (action === 'update') compensation = undefined;

    await removeStale(deps, staleConsumers(records.recordedConsumers, spec), owner, log, 'consumers no longer declared removed');
    // Retired only now, after consumers hold the new key, so none is ever left with a dead one.
    const draining = await retireSuperseded(deps, spec, record, replaced, provisioned, records.drainingUntil, log);
    await records.recordHandedOut(refOf(record), declaredConsumers, draining);
    return { keyId: record.id, secretArn: input.secretArn, inlineRuleArns };
  } catch (error) {
    const note = await compensation?.run(isConcurrentApply(error) ? await concurrentRecord(deps.provisioned, input.tenant, input.name) : undefined);
    throw note ? withNote(error, note) : error;
  }
}

/**
 * The keys this declaration handed out before `record`: each revoked, or (the key this run replaced,
 * when reference rules may still send it from their cache) kept working until the horizon. Returns
 * those still working, for the record.
 */
async function retireSuperseded(
  deps: Deps,
  spec: KeySpec,
  record: ApiKeyRecord,
  replaced: ApiKeyRecord | undefined,
  provisioned: readonly KeyRef[],
  drainingUntil: ReadonlyMap<string, string>,
  log: Logger,
) {
  const disposal = disposeSuperseded({
    superseded: supersededKeys(refOf(record), [replaced && refOf(replaced), ...provisioned]),
    drainingUntil,
    ...(replaced ? { replaced: { ref: refOf(replaced), ...(replaced.expiresAt ? { expiresAt: replaced.expiresAt } : {}) } } : {}),
    cachingConsumers: spec.referenceRules.length > 0,
    horizonMs: deps.horizonMs,
    nowMs: deps.clock().getTime(),
  });
  if (disposal.startDrain && replaced) await drainKey(deps.manager, replaced, disposal.startDrain.expiresAt, spec.referenceRules, log);
  for (const old of disposal.revoke) await revokeKey(deps.manager, old, log);
  return disposal.draining;
}

/**
 * Delete: revoke the keys the provisioner issued for this declaration and remove its written
 * consumers; leave the secret, which Terraform deletes right after. Repeatable: anything already
 * gone counts as done. Runs holding the key's lease.
 */
async function remove(deps: Deps, { input, previousInput }: ProvisionEvent, log: Logger): Promise<ProvisionResult> {
  const record = await deps.provisioned.get(input.tenant, input.name);
  const provisioned = recordedKeys(record);
  const secretRead = await readKeySecret(deps.secrets, input.secretArn);
  if (secretRead.status === 'absent') log.info('the secret holds no key', { secretArn: input.secretArn, reason: secretRead.reason });
  const secret = secretRead.status === 'present' ? secretRead.value : undefined;
  if (secret && !isProvisioned(secretRef(secret), provisioned)) {
    log.warn('the secret names a key the provisioner did not issue for this declaration; leaving that key alone', { keyId: secret.keyId, keyTenant: secret.tenant });
  }
  // Every key, superseded ones still in their horizon too: the declaration and its secret are going.
  for (const ref of provisioned) await revokeKey(deps.manager, ref, log);

  const spec = await readSpecIfReadable(deps.documentClient, deps.keysTable, input.tenant, input.name, log);
  const consumers = uniqueConsumers([...(spec?.consumers ?? []).map(consumerRefOf), ...(record?.consumers ?? [])]);
  await removeStale(deps, consumers, consumerOwner(input, previousInput), log, 'consumers removed');
  await deps.provisioned.delete(input.tenant, input.name, record?.version ?? NO_RECORD_VERSION);
  return { keyId: record?.current?.keyId ?? '', secretArn: input.secretArn, inlineRuleArns: [] };
}

const NOT_OWNED_WARNING = 'left consumers alone: they exist but are not tagged for this key, so keyroll did not create them for it';

/** Takes the key out of consumers, each only if it is this key's, and logs what it removed and what it left alone. */
async function removeStale(deps: Deps, consumers: readonly ConsumerRef[], owner: ConsumerOwner, log: Logger, removedMessage: string): Promise<void> {
  const { deleted, notOwned } = await removeConsumers(deps.consumers, consumers, owner);
  const named = (list: readonly ConsumerRef[]) => list.map((consumer) => deps.consumers.describe(consumer));
  if (deleted.length > 0) log.info(removedMessage, { consumers: named(deleted) });
  if (notOwned.length > 0) log.warn(NOT_OWNED_WARNING, { consumers: named(notOwned), tag: `${OWNER_TAG}=${owner.key}` });
}
