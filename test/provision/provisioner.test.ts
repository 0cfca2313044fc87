/** The provisioner against DynamoDB, Secrets Manager and IoT on the emulator, driven by the events Terraform sends. */
import { DescribeSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IoTClient } from '@aws-sdk/client-iot';
import { KEY_PATTERN, KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { ProvisionError } from '../../lambda/provision/errors';
import { keySecretValue, writeKeySecret } from '../../lambda/handout/key-secret';
import { createInputFromSpec, inlineConsumersOf } from '../../lambda/provision/key-spec';
import { provisionedKeyItemKey } from '../../lambda/handout/provisioned-key';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { uniqueName } from '../local-aws/fixtures';
import {
  createProvisionFixture,
  events,
  headerSentTo,
  inlineRule,
  inputOf,
  type ProvisionFixture,
  specOf,
  TELEMETRY_URL,
} from './provision-fixture';

let fx: ProvisionFixture;
beforeAll(async () => {
  fx = await createProvisionFixture();
});
afterAll(() => fx.destroy());

/** A tenant of the test's own, so listing its keys sees no other test's. */
const uniqueTenant = (prefix: string) => uniqueName(prefix).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);

/** Everything a run may show a human or Terraform: logs here, results and errors in each test. */
afterEach(() => {
  expect(fx.logLines.join('\n')).not.toMatch(KEY_PATTERN);
});

async function rejection(promise: Promise<unknown>): Promise<ProvisionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisionError);
    expect((error as Error).message).not.toMatch(KEY_PATTERN);
    expect((error as Error).stack ?? '').not.toMatch(KEY_PATTERN);
    return error as ProvisionError;
  }
  throw new Error('expected the provisioner to fail');
}

/** A declared key, created by the provisioner; returns what later steps need. */
async function provisioned(specOverrides: Parameters<typeof specOf>[0] = {}) {
  const spec = specOf(specOverrides);
  await fx.putSpec(spec);
  const secretArn = await fx.createSecret();
  const input = inputOf(spec, secretArn);
  const result = await fx.provisioner().handle(events.create(input));
  const secret = (await fx.readSecret(secretArn))!;
  return { spec, secretArn, input, result, secret };
}

describe('create', () => {
  it('issues a key with the declared configuration and puts its plaintext in the secret', async () => {
    const { spec, secretArn, result, secret } = await provisioned({ customerId: 'cust-7', expiresAt: '2030-01-01T00:00:00Z' });

    expect(result).toEqual({ keyId: expect.stringMatching(/^key_/), secretArn, inlineRuleArns: [] });
    expect(JSON.stringify(result)).not.toMatch(KEY_PATTERN);
    expect(secret).toEqual({ apiKey: expect.stringMatching(/^kr_live_/), keyId: result.keyId, tenant: 'acme', name: spec.name, environment: 'production' });
    const verification = await fx.verify(secret.apiKey, 'production');
    expect(verification).toMatchObject({
      ok: true,
      key: {
        id: result.keyId,
        tenant: 'acme',
        name: spec.name,
        environment: 'production',
        permissions: ['telemetry:write'],
        rateLimit: { limit: 600, windowSeconds: 60 },
        tags: ['iot'],
        customerId: 'cust-7',
        expiresAt: '2030-01-01T00:00:00.000Z',
        enabled: true,
      },
    });
  });

  it('adopts the key already in the secret when retried, instead of issuing a second one', async () => {
    const { input, result, secret } = await provisioned({ tenant: 'retry-co' });

    const again = await fx.provisioner().handle(events.create(input));

    expect(again).toEqual(result);
    expect(await fx.readSecret(input.secretArn)).toEqual(secret);
    expect((await fx.manager.list('retry-co')).map((key) => key.id)).toEqual([result.keyId]);
  });

  it('applies the spec to an adopted key', async () => {
    const { spec, input, result } = await provisioned();
    await fx.putSpec({ ...spec, permissions: ['telemetry:*'] });

    await fx.provisioner().handle(events.create(input));

    expect((await fx.manager.get('acme', result.keyId)).permissions).toEqual(['telemetry:*']);
  });

  it('issues a new key when the one in the secret belongs to another tenant, and leaves that key alone', async () => {
    const other = await provisioned({ tenant: 'other-co' });
    const spec = specOf();
    await fx.putSpec(spec);
    // The same secret declared for a second key: a mistake, but no reason to revoke the first key.
    const result = await fx.provisioner().handle(events.create(inputOf(spec, other.secretArn)));

    expect(result.keyId).not.toBe(other.result.keyId);
    expect((await fx.readSecret(other.secretArn))!.tenant).toBe('acme');
    expect((await fx.manager.get('other-co', other.result.keyId)).revokedAt).toBeUndefined();
  });
});

describe('update', () => {
  it('changes the configuration of the same key, leaves the secret as it is and never re-enables a disabled key', async () => {
    const { spec, input, result, secret } = await provisioned({ expiresAt: '2030-01-01T00:00:00Z' });
    await fx.manager.update('acme', result.keyId, { enabled: false });
    const { expiresAt: _dropped, ...withoutExpiry } = spec;
    await fx.putSpec({ ...withoutExpiry, permissions: ['telemetry:write', 'devices:read'], rateLimit: { limit: 10, windowSeconds: 1 }, tags: [] });

    const updated = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(updated.keyId).toBe(result.keyId);
    expect(await fx.readSecret(input.secretArn)).toEqual(secret);
    const record = await fx.manager.get('acme', result.keyId);
    expect(record).toMatchObject({ permissions: ['telemetry:write', 'devices:read'], rateLimit: { limit: 10, windowSeconds: 1 }, tags: [], enabled: false });
    expect(record.expiresAt).toBeUndefined();
  });

  it('renames the key in place and rewrites only the metadata in the secret', async () => {
    const { spec, input, result, secret } = await provisioned();
    const renamed = { ...spec, name: `${spec.name}-renamed` };
    await fx.putSpec(renamed);
    const renamedInput = { ...input, name: renamed.name, specDigest: 'digest-2' };

    const updated = await fx.provisioner().handle(events.update(renamedInput, input));

    expect(updated.keyId).toBe(result.keyId);
    expect(await fx.readSecret(input.secretArn)).toEqual({ ...secret, name: renamed.name });
    expect((await fx.manager.get('acme', result.keyId)).name).toBe(renamed.name);
    // What was provisioned moved with the name.
    const old = await fx.documentClient.send(new GetCommand({ TableName: fx.keysTable, Key: provisionedKeyItemKey('acme', spec.name) }));
    const now = await fx.documentClient.send(new GetCommand({ TableName: fx.keysTable, Key: provisionedKeyItemKey('acme', renamed.name) }));
    expect(old.Item).toBeUndefined();
    expect(now.Item).toMatchObject({ keyId: result.keyId });
  });

  it('replaces the key when the environment changed: new key in the secret, then the old one revoked', async () => {
    const { spec, input, result, secret } = await provisioned();
    await fx.putSpec({ ...spec, environment: 'staging' });

    const updated = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    const next = (await fx.readSecret(input.secretArn))!;
    expect(updated.keyId).not.toBe(result.keyId);
    expect(next).toMatchObject({ keyId: updated.keyId, environment: 'staging', apiKey: expect.stringMatching(/^kr_test_/) });
    expect(await fx.verify(next.apiKey, 'staging')).toMatchObject({ ok: true, key: { id: updated.keyId, permissions: spec.permissions } });
    expect((await fx.manager.get('acme', result.keyId)).revokedAt).toBeDefined();
    expect(await fx.verify(secret.apiKey, 'production')).toMatchObject({ ok: false, code: 'INVALID_API_KEY' });
  });

  it('issues a new key when the key was revoked out of band', async () => {
    const { input, result } = await provisioned();
    await fx.manager.revoke('acme', result.keyId);

    const updated = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(updated.keyId).not.toBe(result.keyId);
    const next = (await fx.readSecret(input.secretArn))!;
    expect(await fx.verify(next.apiKey, 'production')).toMatchObject({ ok: true, key: { id: updated.keyId } });
    expect(fx.logLines.join('\n')).toContain('revoked outside the provisioner');
  });

  it('gives the key a new secret when it was regenerated outside the provisioner', async () => {
    const { input, result } = await provisioned();
    await fx.manager.regenerate('acme', result.keyId, { graceSeconds: 0 });

    const updated = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(updated.keyId).toBe(result.keyId);
    const next = (await fx.readSecret(input.secretArn))!;
    expect(await fx.verify(next.apiKey, 'production')).toMatchObject({ ok: true, key: { id: result.keyId } });
  });
});

describe('inline consumers', () => {
  it('creates the rule with the key from the secret in its header and returns its ARN', async () => {
    const rule = inlineRule({ description: 'readings to keyroll' });
    const { result, secret } = await provisioned({ consumers: [rule] });

    const created = await fx.getRule(rule.ruleName);
    expect(result.inlineRuleArns).toEqual([created!.ruleArn]);
    expect(created!.ruleArn).toMatch(new RegExp(`^arn:aws:iot:[a-z0-9-]+:\\d{12}:rule/${rule.ruleName}$`));
    expect(headerSentTo(created, TELEMETRY_URL, 'x-api-key')).toBe(secret.apiKey);
    expect(created!.rule).toMatchObject({ sql: rule.sql, description: 'readings to keyroll', awsIotSqlVersion: '2016-03-23', ruleDisabled: false });
  });

  it('creates the rule tagged with the key it carries', async () => {
    const rule = inlineRule();
    const { spec } = await provisioned({ consumers: [rule] });

    expect(await fx.ruleTags(rule.ruleName)).toEqual({ 'keyroll:key': `acme/${spec.name}` });
  });

  it('rebuilds an existing rule tagged for this key from the spec, keeping only its disabled switch', async () => {
    const rule = inlineRule({ description: 'readings to keyroll' });
    const spec = specOf({ consumers: [rule] });
    const existing = {
      sql: "SELECT temperature FROM 'plant/+/readings'",
      description: 'hand-made rule',
      ruleDisabled: true,
      awsIotSqlVersion: '2015-10-08',
      actions: [
        { republish: { topic: 'audit/readings', roleArn: 'arn:aws:iam::123456789012:role/iot-republish', qos: 1 } },
        { http: { url: TELEMETRY_URL, confirmationUrl: 'https://telemetry.keyroll.test/', headers: [{ key: 'x-source', value: 'plant-7' }] } },
      ],
      errorAction: { republish: { topic: 'errors/readings', roleArn: 'arn:aws:iam::123456789012:role/iot-republish' } },
    };
    // Handed over deliberately: tagged for the key by whoever owns the rule, which makes it keyroll's to define.
    await fx.createRule(rule.ruleName, existing, `keyroll%3Akey=acme%2F${spec.name}`);

    const { result, secret } = await provisioned(spec);

    const after = (await fx.getRule(rule.ruleName))!;
    expect(result.inlineRuleArns).toEqual([after.ruleArn]);
    expect(after.rule).toMatchObject({ sql: rule.sql, description: rule.description, ruleDisabled: true, awsIotSqlVersion: rule.sqlVersion });
    expect(after.rule!.actions).toEqual([
      { http: { url: TELEMETRY_URL, headers: [{ key: 'x-api-key', value: secret.apiKey }, { key: 'content-type', value: 'application/json' }] } },
    ]);
    expect(after.rule!.errorAction ?? {}).toEqual({});
  });

  it('deletes a rule the spec no longer declares, and keeps writing the others', async () => {
    const kept = inlineRule();
    const dropped = inlineRule();
    const { spec, input, secret } = await provisioned({ consumers: [kept, dropped] });
    expect(await fx.getRule(dropped.ruleName)).toBeDefined();
    await fx.putSpec({ ...spec, consumers: [kept] });

    const updated = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(await fx.getRule(dropped.ruleName)).toBeUndefined();
    const still = await fx.getRule(kept.ruleName);
    expect(updated.inlineRuleArns).toEqual([still!.ruleArn]);
    expect(headerSentTo(still, TELEMETRY_URL, 'x-api-key')).toBe(secret.apiKey);
  });

  it('moves the rules to the replacement key before revoking the old one', async () => {
    const rule = inlineRule();
    const { spec, input } = await provisioned({ consumers: [rule] });
    await fx.putSpec({ ...spec, environment: 'development' });

    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    const next = (await fx.readSecret(input.secretArn))!;
    expect(next.apiKey).toMatch(/^kr_dev_/);
    expect(headerSentTo(await fx.getRule(rule.ruleName), TELEMETRY_URL, 'x-api-key')).toBe(next.apiKey);
  });
});

describe('inline rules the provisioner did not create', () => {
  const handMade = { sql: "SELECT * FROM 'plant/+'", actions: [{ http: { url: TELEMETRY_URL, headers: [{ key: 'x-source', value: 'plant-7' }] } }] };

  it.each([
    ['an untagged rule', undefined, 'absent'],
    ['a rule tagged for another key', 'keyroll%3Akey=acme%2Fsomeone-else', '`acme/someone-else`'],
  ])('refuses to write into %s, leaves it as it was and revokes the key it issued', async (_, tags, found) => {
    const rule = inlineRule();
    await fx.createRule(rule.ruleName, handMade, tags);
    const spec = specOf({ tenant: uniqueTenant('not-owned'), consumers: [rule] });
    await fx.putSpec(spec);

    const error = await rejection(fx.provisioner().handle(events.create(inputOf(spec, await fx.createSecret()))));

    expect(error.code).toBe('RULE_NOT_OWNED');
    expect(error.message).toContain(`IoT topic rule ${rule.ruleName} exists but was not created by keyroll for key \`${spec.tenant}/${spec.name}\``);
    expect(error.message).toContain(`its keyroll:key tag is ${found}`);
    expect(error.message).toContain(`tagging it keyroll:key=${spec.tenant}/${spec.name}`);
    expect((await fx.getRule(rule.ruleName))!.rule!.actions).toEqual(handMade.actions);
    const keys = await fx.manager.list(spec.tenant);
    expect(keys).toHaveLength(1);
    expect(keys[0].revokedAt).toBeDefined();
  });

  it('leaves a rule that is no longer tagged for the key when deleting, and says so', async () => {
    const rule = inlineRule();
    const { input, result } = await provisioned({ consumers: [rule] });
    await fx.tagRule(rule.ruleName, { 'keyroll:key': 'acme/someone-else' });

    await fx.provisioner().handle(events.delete(input));

    expect(await fx.getRule(rule.ruleName)).toBeDefined();
    expect((await fx.manager.get('acme', result.keyId)).revokedAt).toBeDefined();
    expect(fx.logLines.join('\n')).toMatch(new RegExp(`left consumers alone.*IoT topic rule ${rule.ruleName}`));
  });

  it('leaves a stale rule that is not tagged for the key when the spec drops it', async () => {
    const rule = inlineRule();
    const { spec, input } = await provisioned({ consumers: [rule] });
    await fx.tagRule(rule.ruleName, { 'keyroll:key': 'acme/someone-else' });
    await fx.putSpec({ ...spec, consumers: [] });

    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(await fx.getRule(rule.ruleName)).toBeDefined();
  });

  it('takes its rules along when the key is renamed, re-tagging them', async () => {
    const rule = inlineRule();
    const { spec, input, secret } = await provisioned({ consumers: [rule] });
    const renamed = { ...spec, name: `${spec.name}-renamed` };
    await fx.putSpec(renamed);

    await fx.provisioner().handle(events.update({ ...input, name: renamed.name, specDigest: 'digest-2' }, input));

    expect(await fx.ruleTags(rule.ruleName)).toEqual({ 'keyroll:key': `acme/${renamed.name}` });
    expect(headerSentTo(await fx.getRule(rule.ruleName), TELEMETRY_URL, 'x-api-key')).toBe(secret.apiKey);
  });
});

describe('keys the provisioner did not issue', () => {
  it('issues a new key when the secret names a key of the same tenant it never issued, and leaves that key alone', async () => {
    const tenant = uniqueTenant('foreign');
    const { spec, input, result } = await provisioned({ tenant });
    // The secret now points at a key someone else made through the API.
    const foreign = await fx.manager.create(tenant, createInputFromSpec(specOf({ tenant, name: 'made-by-hand' })));
    await writeKeySecret(fx.secrets, input.secretArn, keySecretValue(foreign.record, foreign.key));

    const updated = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect([result.keyId, foreign.record.id]).not.toContain(updated.keyId);
    const untouched = await fx.manager.get(tenant, foreign.record.id);
    expect(untouched).toEqual(foreign.record);
    expect(untouched.revokedAt).toBeUndefined();
    // Its own earlier key is superseded and revoked; the new one is in the secret.
    expect((await fx.manager.get(tenant, result.keyId)).revokedAt).toBeDefined();
    expect(await fx.readSecret(input.secretArn)).toMatchObject({ keyId: updated.keyId, name: spec.name });
    expect(fx.logLines.join('\n')).toContain('did not issue for this declaration');
  });

  it('does not revoke a key the secret names on delete unless its record says it issued it', async () => {
    const tenant = uniqueTenant('foreign-delete');
    const { input, result } = await provisioned({ tenant });
    const foreign = await fx.manager.create(tenant, createInputFromSpec(specOf({ tenant, name: 'made-by-hand' })));
    await writeKeySecret(fx.secrets, input.secretArn, keySecretValue(foreign.record, foreign.key));

    const deleted = await fx.provisioner().handle(events.delete(input));

    expect(deleted.keyId).toBe(result.keyId);
    expect((await fx.manager.get(tenant, result.keyId)).revokedAt).toBeDefined();
    expect((await fx.manager.get(tenant, foreign.record.id)).revokedAt).toBeUndefined();
  });
});

describe('item layout', () => {
  it('keeps specs and its records out of the tenant partition the key service writes', async () => {
    const tenant = uniqueTenant('layout');
    const { spec, result } = await provisioned({ tenant, consumers: [inlineRule()] });

    const { Items = [] } = await fx.documentClient.send(
      new QueryCommand({ TableName: fx.keysTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `TENANT#${tenant}` } }),
    );
    expect(Items.map((item) => item.sk)).toEqual([`KEY#${result.keyId}`]);
    const specItem = await fx.documentClient.send(new GetCommand({ TableName: fx.keysTable, Key: { pk: `SPEC#${tenant}`, sk: spec.name } }));
    expect(specItem.Item).toMatchObject({ kind: 'spec', name: spec.name });
    expect(await fx.readRecord(tenant, spec.name)).toEqual({
      pk: `PROVISIONED#${tenant}`,
      sk: spec.name,
      kind: 'provisioned',
      keyTenant: tenant,
      keyId: result.keyId,
      consumers: inlineConsumersOf(spec).map((rule) => ({ type: 'iot-rule-inline', ruleName: rule.ruleName })),
      provisionedAt: expect.any(String),
      version: expect.any(Number),
      writeId: expect.any(String),
    });
  });
});

describe('a run that dies half-way', () => {
  /**
   * A run that dies holding the key's lease blocks the key until the lease expires (90 s on AWS,
   * past the function's 60 s timeout). These runs never end, so their lease is made to expire at
   * once: the retry stands for one made after that.
   */
  const DEAD_RUN_LEASE_MS = 1;

  /** A Secrets Manager client whose PutSecretValue never answers, as when the Lambda times out; `afterWrite` decides whether the value lands first. */
  function hangingSecrets(afterWrite: boolean): { client: SecretsManagerClient; reached: Promise<Record<string, unknown> | undefined> } {
    const client = new SecretsManagerClient({});
    let signal: (record: Record<string, unknown> | undefined) => void = () => undefined;
    const reached = new Promise<Record<string, unknown> | undefined>((resolve) => (signal = resolve));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutSecretValueCommand') return next(args);
        const { keyId, tenant, name } = JSON.parse((args.input as { SecretString: string }).SecretString);
        if (afterWrite) await next(args);
        // What the record said when the key first went anywhere but the key store.
        const record = await fx.readRecord(tenant, name);
        signal(record && { ...record, writing: keyId });
        return new Promise(() => undefined);
      },
      { step: 'initialize', name: 'hangPutSecretValue' },
    );
    return { client, reached };
  }

  it('records the key as pending before it is written anywhere', async () => {
    const spec = specOf({ tenant: uniqueTenant('pending') });
    await fx.putSpec(spec);
    const { client, reached } = hangingSecrets(false);

    void fx.provisioner({ secrets: client }).handle(events.create(inputOf(spec, await fx.createSecret())));
    const record = await reached;

    expect(record).toMatchObject({ pendingKeyTenant: spec.tenant, pendingKeyId: record!.writing });
    expect(record!.keyId).toBeUndefined();
  });

  it('revokes the key a dead run issued but never handed out', async () => {
    const spec = specOf({ tenant: uniqueTenant('orphan') });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    const { client, reached } = hangingSecrets(false);
    void fx.provisioner({ secrets: client, leaseMs: DEAD_RUN_LEASE_MS }).handle(events.create(input));
    const orphan = String((await reached)!.writing);

    const retried = await fx.provisioner().handle(events.create(input));

    expect(retried.keyId).not.toBe(orphan);
    expect((await fx.manager.get(spec.tenant, orphan)).revokedAt).toBeDefined();
    expect((await fx.manager.get(spec.tenant, retried.keyId)).revokedAt).toBeUndefined();
    expect(await fx.readRecord(spec.tenant, spec.name)).not.toHaveProperty('pendingKeyId');
  });

  it('adopts the key a dead run got as far as the secret, and revokes the key it was replacing', async () => {
    const { spec, input, result } = await provisioned({ tenant: uniqueTenant('adopt') });
    await fx.putSpec({ ...spec, environment: 'staging' });
    const { client, reached } = hangingSecrets(true);
    void fx.provisioner({ secrets: client, leaseMs: DEAD_RUN_LEASE_MS }).handle(events.update({ ...input, specDigest: 'digest-2' }, input));
    const pending = String((await reached)!.writing);

    const retried = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-3' }, { ...input, specDigest: 'digest-2' }));

    expect(retried.keyId).toBe(pending);
    expect((await fx.manager.get(spec.tenant, result.keyId)).revokedAt).toBeDefined();
    const secret = (await fx.readSecret(input.secretArn))!;
    expect(await fx.verify(secret.apiKey, 'staging')).toMatchObject({ ok: true, key: { id: pending } });
    expect(await fx.readRecord(spec.tenant, spec.name)).toMatchObject({ keyId: pending });
    expect(await fx.readRecord(spec.tenant, spec.name)).not.toHaveProperty('pendingKeyId');
  });
});

describe('delete', () => {
  it('revokes the key and deletes its inline rules, leaves the secret to Terraform, and can run twice', async () => {
    const rule = inlineRule();
    const { input, result, secret } = await provisioned({ consumers: [rule] });

    const deleted = await fx.provisioner().handle(events.delete(input));

    expect(deleted).toEqual({ keyId: result.keyId, secretArn: input.secretArn, inlineRuleArns: [] });
    expect((await fx.manager.get('acme', result.keyId)).revokedAt).toBeDefined();
    expect(await fx.verify(secret.apiKey, 'production')).toMatchObject({ ok: false });
    expect(await fx.getRule(rule.ruleName)).toBeUndefined();
    expect((await fx.secrets.send(new DescribeSecretCommand({ SecretId: input.secretArn }))).DeletedDate).toBeUndefined();

    // Its record is gone with the first run: the second finds nothing of its own left to revoke.
    await expect(fx.provisioner().handle(events.delete(input))).resolves.toEqual({ keyId: '', secretArn: input.secretArn, inlineRuleArns: [] });
    expect((await fx.manager.get('acme', result.keyId)).revokedAt).toBeDefined();
  });

  it('succeeds when the secret is empty, missing or already scheduled for deletion', async () => {
    const spec = specOf();
    await fx.putSpec(spec);
    const empty = await fx.createSecret();
    const missing = empty.replace(/[^:]+$/, 'keyroll/never-created-AbCdEf');
    const scheduled = await fx.createSecret();
    await fx.secrets.send(new DeleteSecretCommand({ SecretId: scheduled, RecoveryWindowInDays: 7 }));

    for (const secretArn of [empty, missing, scheduled]) {
      await expect(fx.provisioner().handle(events.delete(inputOf(spec, secretArn)))).resolves.toEqual({ keyId: '', secretArn, inlineRuleArns: [] });
    }
  });

  it('deletes the rules it provisioned even when the spec is already gone', async () => {
    const rule = inlineRule();
    const { spec, input, result } = await provisioned({ consumers: [rule] });
    await fx.deleteSpec(spec.tenant, spec.name);

    await fx.provisioner().handle(events.delete(input));

    expect(await fx.getRule(rule.ruleName)).toBeUndefined();
    expect((await fx.manager.get('acme', result.keyId)).revokedAt).toBeDefined();
  });
});

describe('errors', () => {
  it('refuses a malformed event with a message naming the field', async () => {
    const error = await rejection(fx.provisioner().handle({ tenant: 'acme', name: 'k', specDigest: 'd', tf: { action: 'create', prev_input: null } }));
    expect(error.code).toBe('INVALID_EVENT');
    expect(error.message).toMatch(/`input\.secretArn` is required.*Fix the `input` of the aws_lambda_invocation/);
  });

  it('fails a create whose spec is missing and says where it looked', async () => {
    const spec = specOf();
    const error = await rejection(fx.provisioner().handle(events.create(inputOf(spec, await fx.createSecret()))));
    expect(error.code).toBe('SPEC_NOT_FOUND');
    expect(error.message).toContain(`No key spec for key \`${spec.name}\` of tenant \`acme\` in table \`${fx.keysTable}\``);
  });

  it('fails on a spec that does not parse, naming the attribute', async () => {
    const spec = specOf();
    await fx.putSpec({ ...spec, permissions: ['Telemetry Write'] });
    const error = await rejection(fx.provisioner().handle(events.create(inputOf(spec, await fx.createSecret()))));
    expect(error.code).toBe('INVALID_SPEC');
    expect(error.message).toMatch(/`spec\.permissions\.0` must look like `resource:action`.*Fix the aws_dynamodb_table_item/);
  });

  it('fails an update whose key cannot take the new expiry, and keeps the key', async () => {
    const { spec, input, result } = await provisioned();
    await fx.putSpec({ ...spec, expiresAt: '2020-01-01T00:00:00Z' });
    const error = await rejection(fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input)));
    expect(error.code).toBe('KEY_CHANGE_FAILED');
    expect(error.message).toMatch(/`expiresAt` is in the past/);
    expect((await fx.manager.get('acme', result.keyId)).revokedAt).toBeUndefined();
  });
});

describe('compensation', () => {
  /** A Secrets Manager client whose PutSecretValue fails, with the request's secret in the message as some SDK errors do. */
  function failingSecrets(): SecretsManagerClient {
    const client = new SecretsManagerClient({});
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutSecretValueCommand') {
          const input = args.input as { SecretString?: string };
          throw Object.assign(new Error(`InternalFailure while storing ${input.SecretString}`), { name: 'InternalFailure' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectPutSecretValueFault' },
    );
    return client;
  }

  /** An IoT client whose writes to one rule fail. */
  function failingIot(ruleName: string): IoTClient {
    const client = new IoTClient({});
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ruleName?: string };
        const writes = context.commandName === 'CreateTopicRuleCommand' || context.commandName === 'ReplaceTopicRuleCommand';
        if (writes && input.ruleName === ruleName) {
          throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailableException' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectTopicRuleFault' },
    );
    return client;
  }

  it('revokes the key it issued when the secret cannot be written, and never shows the key in the error', async () => {
    const spec = specOf({ tenant: 'fault-co' });
    await fx.putSpec(spec);
    const secretArn = await fx.createSecret();
    const secrets = failingSecrets();

    const error = await rejection(fx.provisioner({ secrets }).handle(events.create(inputOf(spec, secretArn))));
    secrets.destroy();

    expect(error.code).toBe('AWS_REQUEST_FAILED');
    expect(error.message).toMatch(/Writing key key_\w+ to secret .* failed: InternalFailure: InternalFailure while storing .*kr_live_\w{4}….*PutSecretValue/);
    const keys = await fx.manager.list('fault-co');
    expect(keys).toHaveLength(1);
    expect(keys[0].revokedAt).toBeDefined();
    expect(await fx.readSecret(secretArn)).toBeUndefined();
  });

  it('revokes the key it issued when an inline rule cannot be written on create', async () => {
    const good = inlineRule();
    const bad = inlineRule();
    const spec = specOf({ tenant: 'fault-rules-co', consumers: [good, bad] });
    await fx.putSpec(spec);
    const secretArn = await fx.createSecret();
    const iot = failingIot(bad.ruleName);

    const error = await rejection(fx.provisioner({ iot }).handle(events.create(inputOf(spec, secretArn))));
    iot.destroy();

    expect(error.message).toContain(`Creating IoT topic rule ${bad.ruleName} failed: ServiceUnavailableException`);
    const [key] = await fx.manager.list('fault-rules-co');
    expect(key.revokedAt).toBeDefined();
    // A retry then issues a working key and reaches every rule.
    const retried = await fx.provisioner().handle(events.create(inputOf(spec, secretArn)));
    const secret = (await fx.readSecret(secretArn))!;
    expect(retried.keyId).not.toBe(key.id);
    expect(await fx.verify(secret.apiKey, 'production')).toMatchObject({ ok: true });
    expect(headerSentTo(await fx.getRule(bad.ruleName), TELEMETRY_URL, 'x-api-key')).toBe(secret.apiKey);
  });

  it('gives consumers their working key back when a replacement fails half-way', async () => {
    const good = inlineRule();
    const bad = inlineRule();
    const { spec, input, result, secret } = await provisioned({ consumers: [good, bad] });
    await fx.putSpec({ ...spec, environment: 'staging' });
    const iot = failingIot(bad.ruleName);

    await rejection(fx.provisioner({ iot }).handle(events.update({ ...input, specDigest: 'digest-2' }, input)));
    iot.destroy();

    expect(await fx.readSecret(input.secretArn)).toEqual(secret);
    expect(headerSentTo(await fx.getRule(good.ruleName), TELEMETRY_URL, 'x-api-key')).toBe(secret.apiKey);
    expect(await fx.verify(secret.apiKey, 'production')).toMatchObject({ ok: true, key: { id: result.keyId } });
    const replacements = (await fx.manager.list('acme')).filter((key) => key.name === spec.name && key.id !== result.keyId);
    expect(replacements).toHaveLength(1);
    expect(replacements[0].revokedAt).toBeDefined();
  });
});

describe('security', () => {
  it('leaves no plaintext key in the keys table, only in the secret', async () => {
    await provisioned({ consumers: [inlineRule()] });
    const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
    const { Items } = await fx.documentClient.send(new ScanCommand({ TableName: fx.keysTable }));
    expect(JSON.stringify(Items).match(KEY_PATTERN_GLOBAL)).toBeNull();
  });
});
