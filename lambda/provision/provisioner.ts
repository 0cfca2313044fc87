/**
 * The provisioner: makes a declared key real on create and update, and takes it away on delete.
 * It reads the spec, the key's secret and what it provisioned before, decides with key-plan.ts,
 * and then issues, reconfigures, replaces or revokes the key and hands it to its secret and its
 * inline consumers. Never logs, returns or throws the key itself.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { IoTClient } from '@aws-sdk/client-iot';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isKeyrollError } from '../errors';
import type { ApiKeyRecord } from '../keys/key-record';
import { KeyManager } from '../manage/key-manager';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbKeyStore } from '../store/dynamodb-key-store';
import { tableNamesFromEnv } from '../store/table-names';
import { deleteInlineConsumers, writeKeyIntoInlineConsumers } from './consumers/inline-consumers';
import { RULE_OWNER_TAG, type RuleOwner, ruleOwnerTagValue, writeKeyIntoRule } from './consumers/iot-rule-inline';
import { describeError, isProvisionError, ProvisionError, provisionErrors, toSafeError } from './errors';
import { isProvisioned, type KeyPlan, type KeyRef, planKey, sameSecretValue, secretRef, staleRuleNames, supersededKeys } from './key-plan';
import { keySecretValue, readKeySecret, writeKeySecret } from './key-secret';
import { newKeyId } from '../keys/key-transitions';
import { createInputFromSpec, type InlineIotRule, type KeySecretValue, type KeySpec, type ProvisionInput, type ProvisionResult } from './key-spec';
import { type ProvisionEvent, parseProvisionEvent } from './provision-event';
import { NO_RECORD_VERSION, type ProvisionedKeyFields, ProvisionedKeyStore, recordedKeys } from './provisioned-key';
import { readSpec } from './spec-reader';

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
  readonly iot: IoTClient;
  readonly keysTable: string;
  readonly clock: () => Date;
  readonly keys: DynamoDbKeyStore;
  readonly manager: KeyManager;
  readonly provisioned: ProvisionedKeyStore;
}

/**
 * Timeouts for the Secrets Manager and IoT clients. A run makes a handful of calls within the
 * Lambda's 60 s; without them one hung connection would use all of it, and the run would die
 * between steps instead of failing with a message (and undoing what it did).
 */
export const AWS_CLIENT_CONFIG = { maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } } as const;

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
    iot: options.iot ?? new IoTClient(AWS_CLIENT_CONFIG),
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
  // The record under this name, and the one under the name of the last apply if the key moved.
  const moved = previousInput && (previousInput.tenant !== input.tenant || previousInput.name !== input.name) ? previousInput : undefined;
  const here = await deps.provisioned.get(input.tenant, input.name);
  const earlier = moved ? await deps.provisioned.get(moved.tenant, moved.name) : undefined;
  const provisioned = [...recordedKeys(here), ...recordedKeys(earlier)];
  const secretRead = await readKeySecret(deps.secrets, input.secretArn);
  const secret = secretRead.status === 'present' ? secretRead.value : undefined;
  // Only a key the provisioner issued for this declaration is read, kept or regenerated.
  const held = secret && isProvisioned(secretRef(secret), provisioned) ? secretRef(secret) : undefined;
  const key = held ? await keyCall(`Reading key ${held.keyId}`, () => deps.keys.getKey(held.tenant, held.keyId)) : undefined;
  const plan = planKey(spec, { secret, key, provisioned }, { nowMs: deps.clock().getTime() });
  logPlan(log, plan, secretRead.status === 'absent' ? secretRead.reason : undefined, secret);
  const owner = ruleOwnerOf(input, previousInput);

  // A key an earlier run issued that never reached the secret reached no consumer either (the
  // secret is written first): it is revoked now, before a new pending key takes its place.
  const stale = supersededKeys(held, [here?.pending, earlier?.pending]);
  for (const ref of stale) {
    log.warn('revoking a key an earlier run issued but never handed out', { keyId: ref.keyId });
    await revokeKey(deps, ref, log);
  }
  // What consumers may hold now: the secret's key if it is ours, else the last one handed out.
  const current = held ?? here?.current ?? earlier?.current;
  const superseded = supersededKeys(current, provisioned).filter((ref) => !isProvisioned(ref, stale));
  const recordedRules = [...new Set([...(here?.inlineRuleNames ?? []), ...(earlier?.inlineRuleNames ?? [])])];
  const declaredRules = spec.inlineConsumers.map((rule) => rule.ruleName);
  // Every write expects the version this run last saw, so a concurrent apply of the same key fails
  // one of the two runs (CONCURRENT_APPLY) instead of letting the later write erase the other's keys.
  let version = here?.version ?? NO_RECORD_VERSION;
  const writeRecord = async (fields: ProvisionedKeyFields) => {
    version = await deps.provisioned.put(input.tenant, input.name, fields, version);
  };

  let compensation: Compensation | undefined;
  try {
    let record: ApiKeyRecord;
    let apiKey: string;
    let replaced: ApiKeyRecord | undefined;
    if (plan.kind === 'issue' || plan.kind === 'replace') {
      // The id is recorded as pending before the key exists, so even a run that dies right after
      // issuing leaves the next one knowing which key to revoke.
      const id = newKeyId();
      await writeRecord({
        current,
        pending: { tenant: spec.tenant, keyId: id },
        superseded,
        inlineRuleNames: recordedRules,
        provisionedAt: deps.clock().toISOString(),
      });
      const issued = await keyCall(`Issuing key \`${spec.name}\``, () => deps.manager.create(spec.tenant, createInputFromSpec(spec), id));
      ({ record, key: apiKey } = issued);
      compensation = new Compensation(deps, log, record, input.secretArn, owner, plan.kind === 'replace' ? secret : undefined);
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

    // Recorded before the key or a new rule is written anywhere, so a run that dies from here on
    // leaves the next one (or the delete) knowing what to revoke and which rules are its own.
    const pending = compensation ? refOf(record) : undefined;
    if (pending || declaredRules.some((name) => !recordedRules.includes(name))) {
      await writeRecord({
        current,
        pending,
        superseded,
        inlineRuleNames: [...new Set([...recordedRules, ...declaredRules])],
        provisionedAt: deps.clock().toISOString(),
      });
    }

    const value = keySecretValue(record, apiKey);
    if (!sameSecretValue(secret, value)) {
      await writeKeySecret(deps.secrets, input.secretArn, value);
      compensation?.secretWritten();
    }
    const inlineRuleArns = await writeKeyIntoInlineConsumers(deps.iot, spec.inlineConsumers, apiKey, owner, (rule) => compensation?.ruleWritten(rule));

    // The key is handed over. Terraform keeps an updated resource even when the update fails, so
    // from here on a failed update leaves the new key in place; what is left to clean up stays
    // recorded (the record, written last) for the next run. A failed create leaves no resource to
    // destroy later, so it is undone to the end.
    if (action === 'update') compensation = undefined;

    const { deleted, notOwned } = await deleteInlineConsumers(deps.iot, staleRuleNames(recordedRules, spec), owner);
    if (deleted.length > 0) log.info('stale inline rules deleted', { ruleNames: deleted });
    if (notOwned.length > 0) log.warn(NOT_OWNED_WARNING, { ruleNames: notOwned, tag: `${RULE_OWNER_TAG}=${owner.key}` });
    // Revoked only now, after consumers hold the new key, so none is ever left with a dead one.
    for (const old of supersededKeys(refOf(record), [replaced && refOf(replaced), ...provisioned])) {
      await revokeKey(deps, old, log);
    }
    await writeRecord({
      current: refOf(record),
      inlineRuleNames: declaredRules,
      provisionedAt: deps.clock().toISOString(),
    });
    if (moved) await deps.provisioned.delete(moved.tenant, moved.name, earlier?.version ?? NO_RECORD_VERSION);
    return { keyId: record.id, secretArn: input.secretArn, inlineRuleArns };
  } catch (error) {
    const note = await compensation?.run(isConcurrentApply(error) ? await recordedNow(deps, input.tenant, input.name) : undefined);
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
  for (const ref of provisioned) await revokeKey(deps, ref, log);

  const spec = await specIfReadable(deps, input.tenant, input.name, log);
  const ruleNames = [...new Set([...(spec?.inlineConsumers.map((rule) => rule.ruleName) ?? []), ...(record?.inlineRuleNames ?? [])])];
  const owner = ruleOwnerOf(input, previousInput);
  const { deleted, notOwned } = await deleteInlineConsumers(deps.iot, ruleNames, owner);
  if (deleted.length > 0) log.info('inline rules deleted', { ruleNames: deleted });
  if (notOwned.length > 0) log.warn(NOT_OWNED_WARNING, { ruleNames: notOwned, tag: `${RULE_OWNER_TAG}=${owner.key}` });
  await deps.provisioned.delete(input.tenant, input.name, record?.version ?? NO_RECORD_VERSION);
  return { keyId: record?.current?.keyId ?? '', secretArn: input.secretArn, inlineRuleArns: [] };
}

const NOT_OWNED_WARNING = 'left IoT topic rules alone: they exist but are not tagged for this key, so keyroll did not create them for it';

/** The key inline rules belong to: this declaration, and the name it had at the last apply. */
function ruleOwnerOf(input: ProvisionInput, previousInput: ProvisionInput | undefined): RuleOwner {
  const key = ruleOwnerTagValue(input.tenant, input.name);
  const formerly = previousInput ? ruleOwnerTagValue(previousInput.tenant, previousInput.name) : key;
  return formerly === key ? { key } : { key, formerly: [formerly] };
}

/**
 * Terraform destroys the invocation before the spec it depends on, so the spec is normally still
 * there; if it is not (or no longer parses), the rules recorded as provisioned are deleted instead.
 */
async function specIfReadable(deps: Deps, tenant: string, name: string, log: Logger): Promise<KeySpec | undefined> {
  try {
    const spec = await readSpec(deps.documentClient, deps.keysTable, tenant, name);
    if (!spec) log.warn('no spec to read the inline rules from; deleting only the rules recorded as provisioned');
    return spec;
  } catch (error) {
    if (!isProvisionError(error) || error.code !== 'INVALID_SPEC') throw error;
    log.warn('the spec does not parse; deleting only the rules recorded as provisioned', { reason: error.message });
    return undefined;
  }
}

/**
 * Undoes a key issued by a run that then failed, so no key nobody holds stays valid. When the key
 * replaced one that worked, the secret and the rules already written get the old key back first:
 * consumers must never be left holding a revoked key.
 */
class Compensation {
  private wroteSecret = false;
  private readonly rulesWritten: InlineIotRule[] = [];

  constructor(
    private readonly deps: Deps,
    private readonly log: Logger,
    private readonly issued: ApiKeyRecord,
    private readonly secretArn: string,
    private readonly owner: RuleOwner,
    private readonly previous: KeySecretValue | undefined,
  ) {}

  secretWritten(): void {
    this.wroteSecret = true;
  }

  ruleWritten(rule: InlineIotRule): void {
    this.rulesWritten.push(rule);
  }

  /**
   * Best effort throughout; returns what a human must finish by hand, if anything.
   *
   * After CONCURRENT_APPLY the other run owns the secret, the rules and the record: they are left
   * alone, as writing the old key back could overwrite the key that run just handed out. The issued
   * key is left alone too when the record, as the other run left it, names it (that run found it
   * in the secret and adopted it, or will revoke it); otherwise nobody else knows of it, and it is
   * revoked, also when the record could not be read: a revoked key in a secret is replaced by the
   * next run, a valid key nobody knows of stays valid.
   */
  async run(concurrent?: ConcurrentRecord): Promise<string | undefined> {
    const issued = refOf(this.issued);
    if (concurrent?.recorded && isProvisioned(issued, concurrent.recorded)) {
      this.log.warn('leaving the key this run issued to the concurrent apply, whose record names it', { keyId: issued.keyId });
      return undefined;
    }
    this.log.warn('undoing the key this run issued', { keyId: this.issued.id });
    const unfinished: string[] = [];
    const previous = this.previous;
    if (previous && !concurrent) {
      if (this.wroteSecret) {
        await this.attempt(() => writeKeySecret(this.deps.secrets, this.secretArn, previous), () =>
          unfinished.push(`secret ${this.secretArn} holds revoked key ${this.issued.id}; re-run the apply to give it a working key`),
        );
      }
      for (const rule of this.rulesWritten) {
        await this.attempt(() => writeKeyIntoRule(this.deps.iot, rule, previous.apiKey, this.owner), () =>
          unfinished.push(`IoT topic rule ${rule.ruleName} holds revoked key ${this.issued.id}; re-run the apply`),
        );
      }
    }
    await this.attempt(() => this.deps.manager.revoke(this.issued.tenant, this.issued.id), () =>
      unfinished.push(
        `key ${this.issued.id} was issued but could not be revoked; revoke it with DELETE /v1/tenants/${this.issued.tenant}/api-keys/${this.issued.id}`,
      ),
    );
    if (unfinished.length === 0) this.log.warn('undone: the issued key is revoked', { keyId: this.issued.id });
    if (unfinished.length > 0) return `Undoing it did not finish: ${unfinished.join('; ')}.`;
    if (concurrent && (this.wroteSecret || this.rulesWritten.length > 0)) {
      return `If the other apply handed out its key first, secret ${this.secretArn} or the inline rules may now hold revoked key ${this.issued.id}; re-running this apply gives them a working key.`;
    }
    return undefined;
  }

  private async attempt(step: () => Promise<unknown>, onFailure: () => void): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.log.error('undo step failed', { keyId: this.issued.id, reason: describeError(error) });
      onFailure();
    }
  }
}

/** The keys a declaration's record names after another apply wrote it; `recorded` is undefined when it could not be read. */
interface ConcurrentRecord {
  readonly recorded: readonly KeyRef[] | undefined;
}

async function recordedNow(deps: Deps, tenant: string, name: string): Promise<ConcurrentRecord> {
  try {
    return { recorded: recordedKeys(await deps.provisioned.get(tenant, name)) };
  } catch {
    return { recorded: undefined };
  }
}

function isConcurrentApply(error: unknown): boolean {
  return isProvisionError(error) && error.code === 'CONCURRENT_APPLY';
}

/** Revokes a key this declaration no longer uses; one already gone or revoked is fine. */
async function revokeKey(deps: Deps, ref: KeyRef, log: Logger): Promise<void> {
  try {
    await deps.manager.revoke(ref.tenant, ref.keyId);
    log.info('key revoked', { keyId: ref.keyId, keyTenant: ref.tenant });
  } catch (error) {
    if (isKeyrollError(error) && error.code === 'NOT_FOUND') return;
    throw provisionErrors.keyChangeFailed(`Revoking key ${ref.keyId} of tenant \`${ref.tenant}\``, error);
  }
}

/** Key manager and store calls, with their failure named. */
async function keyCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isProvisionError(error)) throw error;
    throw provisionErrors.keyChangeFailed(what, error);
  }
}

function logPlan(log: Logger, plan: KeyPlan, secretAbsence: string | undefined, secret: KeySecretValue | undefined): void {
  switch (plan.kind) {
    case 'keep':
      log.info('keeping the key in the secret', { keyId: plan.key.id, changes: Object.keys(plan.changes ?? {}) });
      return;
    case 'regenerate':
      log.warn('the secret no longer opens its key (regenerated outside the provisioner?); regenerating it', { keyId: plan.key.id });
      return;
    case 'replace':
      log.info('replacing the key: a field it cannot change did', { keyId: plan.previous.id, reason: plan.reason });
      return;
    case 'issue':
      if (plan.reason === 'key-revoked') log.warn('the key in the secret was revoked outside the provisioner; issuing a new one', { keyId: secret?.keyId });
      else if (plan.reason === 'key-not-provisioned') {
        log.warn('the secret names a key the provisioner did not issue for this declaration; issuing a new one and leaving that key alone', {
          keyId: secret?.keyId,
          keyTenant: secret?.tenant,
        });
      } else log.info('issuing a key', { reason: plan.reason, ...(secretAbsence ? { secret: secretAbsence } : {}) });
  }
}

function refOf(record: ApiKeyRecord): KeyRef {
  return { tenant: record.tenant, keyId: record.id };
}

function withNote(error: unknown, note: string): ProvisionError {
  const safe = toSafeError(error);
  return new ProvisionError(safe.code, `${safe.message} ${note}`);
}
