/**
 * The provisioner: the Terraform adapter that makes a declared key real on create and update, and
 * takes it away on delete. It parses the event `aws_lambda_invocation` sends, reads the spec, the
 * key's secret and what it provisioned before, decides with key-plan.ts, issues, reconfigures,
 * replaces or revokes the key, and hands it out through lambda/handout/ (the secret first, then the
 * consumers). Every failure leaves as a ProvisionError whose message Terraform shows. Never logs,
 * returns or throws the key itself.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { IoTClient } from '@aws-sdk/client-iot';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AWS_CLIENT_CONFIG } from '../handout/aws-client-config';
import { Compensation, concurrentRecord } from '../handout/compensation';
import { type ConsumerOwner, consumerOwner, OWNER_TAG } from '../handout/consumers/consumer-owner';
import { removeConsumers, writeConsumers } from '../handout/consumers/consumer-set';
import type { ConsumerWriter } from '../handout/consumers/consumer-writer';
import { createConsumerWriter, type WritableConsumer } from '../handout/consumers/registry';
import { isProvisioned, refOf, supersededKeys } from '../handout/key-ref';
import { keySecretValue, readKeySecret, sameSecretValue, writeKeySecret } from '../handout/key-secret';
import { PendingKeyRecord } from '../handout/pending-key';
import { isConcurrentApply, NO_RECORD_VERSION, ProvisionedKeyStore, recordedKeys } from '../handout/provisioned-key';
import type { ApiKeyRecord } from '../keys/key-record';
import { newKeyId } from '../keys/key-transitions';
import { KeyManager } from '../manage/key-manager';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbKeyStore } from '../store/dynamodb-key-store';
import { tableNamesFromEnv } from '../store/table-names';
import { ProvisionError, provisionErrors, toSafeError, withNote } from './errors';
import { keyCall, revokeKey } from './key-calls';
import { planKey, secretRef, staleRuleNames } from './key-plan';
import { createInputFromSpec, inlineConsumersOf, type ProvisionResult } from './key-spec';
import { logPlan } from './plan-log';
import { type ProvisionEvent, parseProvisionEvent } from './provision-event';
import { readSpec, readSpecIfReadable } from './spec-reader';

export interface ProvisionerOptions {
  /**
   * Client for the keys table (specs, keys, and what was provisioned).
   * @default createDocumentClient()
   */
  readonly documentClient?: DynamoDBDocumentClient;
  /**
   * Client for the secrets that hand keys to consumers.
   * @default new SecretsManagerClient(AWS_CLIENT_CONFIG)
   */
  readonly secrets?: SecretsManagerClient;
  /**
   * Client for the inline consumers' topic rules.
   * @default new IoTClient(AWS_CLIENT_CONFIG)
   */
  readonly iot?: IoTClient;
  /**
   * The keys table.
   * @default tableNamesFromEnv().keys, i.e. KEYROLL_KEYS_TABLE
   */
  readonly keysTable?: string;
  /** @default new Logger({ serviceName: 'keyroll-provisioner' }) */
  readonly logger?: Logger;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

export interface Provisioner {
  /**
   * Handles one `aws_lambda_invocation` event. Throws a ProvisionError whose message says what to
   * do; Terraform shows it and fails the apply or destroy.
   */
  handle(event: unknown): Promise<ProvisionResult>;
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
  const deps: Deps = {
    documentClient,
    secrets: options.secrets ?? new SecretsManagerClient(AWS_CLIENT_CONFIG),
    consumers: createConsumerWriter({ iot: options.iot ?? new IoTClient(AWS_CLIENT_CONFIG) }),
    keysTable,
    clock,
    keys,
    manager: new KeyManager({ store: keys, clock }),
    provisioned: new ProvisionedKeyStore(documentClient, keysTable),
  };
  const logger = options.logger ?? new Logger({ serviceName: 'keyroll-provisioner' });
  return { handle: (event) => handle(deps, logger, event) };
}

/**
 * The AWS provider (plugin SDK v2) stores the new input even when an update fails, so the next
 * plan shows no change. See https://github.com/hashicorp/terraform-plugin-sdk/issues/476
 */
const UPDATE_RETRY_NOTE =
  'Terraform records a failed update as applied, so re-running the apply alone will not retry it: after fixing the cause, change the key\'s spec, ' +
  'or apply with -replace on its aws_lambda_invocation (which revokes the key and issues a new one).';

async function handle(deps: Deps, logger: Logger, event: unknown): Promise<ProvisionResult> {
  let log = logger;
  let parsed: ProvisionEvent | undefined;
  try {
    parsed = parseProvisionEvent(event);
    log = logger.createChild({ persistentKeys: { action: parsed.action, tenant: parsed.input.tenant, keyName: parsed.input.name } });
    const result = parsed.action === 'delete' ? await remove(deps, parsed, log) : await apply(deps, parsed, log);
    log.info(parsed.action === 'delete' ? 'deprovisioned' : 'provisioned', { keyId: result.keyId, secretArn: result.secretArn, inlineRuleArns: [...result.inlineRuleArns] });
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

/** Create and update: one convergent path, so a retried create and a repeated update both end in the same place. */
async function apply(deps: Deps, event: ProvisionEvent, log: Logger): Promise<ProvisionResult> {
  const { action, input, previousInput } = event;
  const spec = await readSpec(deps.documentClient, deps.keysTable, input.tenant, input.name);
  if (!spec) throw provisionErrors.specNotFound(input.tenant, input.name, deps.keysTable);
  const rules = inlineConsumersOf(spec);
  const declaredRules = rules.map((rule) => rule.ruleName);
  const records = await PendingKeyRecord.read(deps.provisioned, input, previousInput, deps.clock);
  const provisioned = records.provisioned;
  const secretRead = await readKeySecret(deps.secrets, input.secretArn);
  const secret = secretRead.status === 'present' ? secretRead.value : undefined;
  // Only a key the provisioner issued for this declaration is read, kept or regenerated.
  const held = secret && isProvisioned(secretRef(secret), provisioned) ? secretRef(secret) : undefined;
  const key = held ? await keyCall(`Reading key ${held.keyId}`, () => deps.keys.getKey(held.tenant, held.keyId)) : undefined;
  const plan = planKey(spec, { secret, key, provisioned }, { nowMs: deps.clock().getTime() });
  logPlan(log, plan, secretRead.status === 'absent' ? secretRead.reason : undefined, secret);
  const owner = consumerOwner(input, previousInput);
  for (const ref of records.settle(held)) {
    log.warn('revoking a key an earlier run issued but never handed out', { keyId: ref.keyId });
    await revokeKey(deps.manager, ref, log);
  }

  let compensation: Compensation | undefined;
  try {
    let record: ApiKeyRecord;
    let apiKey: string;
    let replaced: ApiKeyRecord | undefined;
    if (plan.kind === 'issue' || plan.kind === 'replace') {
      const id = newKeyId();
      await records.recordPending({ tenant: spec.tenant, keyId: id });
      ({ record, key: apiKey } = await keyCall(`Issuing key \`${spec.name}\``, () => deps.manager.create(spec.tenant, createInputFromSpec(spec), id)));
      compensation = new Compensation({ ...deps, log }, record, input.secretArn, owner, plan.kind === 'replace' ? secret : undefined);
      replaced = plan.kind === 'replace' ? plan.previous : undefined;
      log.info('key issued', { keyId: record.id });
    } else {
      const kept = plan.key;
      record = plan.changes ? await keyCall(`Updating key ${kept.id}`, () => deps.manager.update(kept.tenant, kept.id, plan.changes!)) : kept;
      if (plan.kind === 'regenerate') {
        // Zero grace: the secret it replaces no longer opened the key anyway.
        ({ record, key: apiKey } = await keyCall(`Regenerating key ${kept.id}`, () => deps.manager.regenerate(kept.tenant, kept.id, { graceSeconds: 0 })));
      } else {
        apiKey = plan.apiKey;
      }
    }

    await records.recordHandingOut(compensation ? refOf(record) : undefined, declaredRules);
    const value = keySecretValue(record, apiKey);
    if (!sameSecretValue(secret, value)) {
      await writeKeySecret(deps.secrets, input.secretArn, value);
      compensation?.secretWritten();
    }
    const inlineRuleArns = await writeConsumers(deps.consumers, rules, apiKey, owner, (rule) => compensation?.consumerWritten(rule));

    // The key is handed over. Terraform keeps an updated resource even when the update fails, so
    // from here on a failed update leaves the new key in place; what is left to clean up stays
    // recorded (the record, written last) for the next run. A failed create leaves no resource to
    // destroy later, so it is undone to the end.
    if (action === 'update') compensation = undefined;

    await deleteRules(deps, staleRuleNames(records.recordedRules, spec), owner, log, 'stale inline rules deleted');
    // Revoked only now, after consumers hold the new key, so none is ever left with a dead one.
    for (const old of supersededKeys(refOf(record), [replaced && refOf(replaced), ...provisioned])) {
      await revokeKey(deps.manager, old, log);
    }
    await records.recordHandedOut(refOf(record), declaredRules);
    return { keyId: record.id, secretArn: input.secretArn, inlineRuleArns };
  } catch (error) {
    const note = await compensation?.run(isConcurrentApply(error) ? await concurrentRecord(deps.provisioned, input.tenant, input.name) : undefined);
    throw note ? withNote(error, note) : error;
  }
}

/**
 * Delete: revoke the keys the provisioner issued for this declaration and delete its inline rules;
 * leave the secret, which Terraform deletes right after. Repeatable: anything already gone counts as done.
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
  for (const ref of provisioned) await revokeKey(deps.manager, ref, log);

  const spec = await readSpecIfReadable(deps.documentClient, deps.keysTable, input.tenant, input.name, log);
  const ruleNames = [...new Set([...inlineConsumersOf(spec).map((rule) => rule.ruleName), ...(record?.inlineRuleNames ?? [])])];
  await deleteRules(deps, ruleNames, consumerOwner(input, previousInput), log, 'inline rules deleted');
  await deps.provisioned.delete(input.tenant, input.name, record?.version ?? NO_RECORD_VERSION);
  return { keyId: record?.current?.keyId ?? '', secretArn: input.secretArn, inlineRuleArns: [] };
}

const NOT_OWNED_WARNING = 'left IoT topic rules alone: they exist but are not tagged for this key, so keyroll did not create them for it';

/** Deletes inline rules by name, each only if it is tagged for `owner`, and logs what it deleted and what it left alone. */
async function deleteRules(deps: Deps, ruleNames: readonly string[], owner: ConsumerOwner, log: Logger, deletedMessage: string): Promise<void> {
  const rules = ruleNames.map((ruleName) => ({ type: 'iot-rule-inline' as const, ruleName }));
  const { deleted, notOwned } = await removeConsumers(deps.consumers, rules, owner);
  if (deleted.length > 0) log.info(deletedMessage, { ruleNames: deleted.map((rule) => rule.ruleName) });
  if (notOwned.length > 0) log.warn(NOT_OWNED_WARNING, { ruleNames: notOwned.map((rule) => rule.ruleName), tag: `${OWNER_TAG}=${owner.key}` });
}
