/**
 * One rotation of a declared key with two inline IoT rules, in-process against the emulator: the
 * four steps move AWSCURRENT, every rule and the key record to a new credential; the old one keeps
 * working until the sweep retires it past the horizon; no plaintext in the record, logs or errors.
 */
import { randomBytes } from 'node:crypto';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { inlineRule } from '../provision/provision-fixture';
import { createRotationHarness, GRACE_MINUTES, HORIZON_MS, newToken, type RotationHarness, USAGE_LAG_MS } from './rotation-fixture';

let h: RotationHarness;

beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(() => h.destroy());

it('moves the secret, every consumer and the key to a new credential, then retires the old one once drained', async () => {
  const key = await h.declareKey({ consumers: 2 });
  const old = key.firstCredential;
  const fn = h.rotation();
  const token = newToken();

  const outcome = await h.runSteps(fn, key, token);
  expect(outcome).toEqual({});
  const cutoverAt = h.now();

  const current = (await h.secretAt(key, 'AWSCURRENT'))!;
  expect(current.apiKey).not.toBe(old);
  expect(current).toMatchObject({ keyId: key.keyId, tenant: key.spec.tenant, name: key.spec.name, environment: 'production' });
  expect(await h.labels(key)).toEqual({ current: token, pending: undefined });
  expect(await h.ruleHashes(key)).toEqual([hashCredential(current.apiKey), hashCredential(current.apiKey)]);

  const record = await h.keyRecord(key);
  expect(record.credentialHash).toBe(hashCredential(current.apiKey));
  expect(record.pendingCredential).toBeUndefined();
  expect(record.graceCredentials).toEqual([
    expect.objectContaining({ hash: hashCredential(old), validUntil: new Date(cutoverAt.getTime() + GRACE_MINUTES * 60_000).toISOString() }),
  ]);

  const state = await h.state(key);
  expect(state).toMatchObject({ phase: 'draining', versionId: token, keyId: key.keyId, consumersVerified: key.rules.map((r) => `iot-rule-inline:${r.ruleName}`) });
  expect(state.retiring).toEqual([expect.objectContaining({ hash: hashCredential(old), cutoverAt: cutoverAt.toISOString(), emergency: false })]);
  expect(await h.verifies(old)).toBe(true);
  expect(await h.verifies(current.apiKey)).toBe(true);

  // Before the horizon the sweep waits: a reference rule may still send the old credential from its cache.
  h.advance(HORIZON_MS - 1);
  expect((await h.sweep()).outcomes).toEqual([expect.objectContaining({ name: key.spec.name, action: 'waiting' })]);
  expect(await h.verifies(old)).toBe(true);

  h.advance(1 + USAGE_LAG_MS);
  const swept = await h.sweep();
  expect(swept.outcomes).toEqual([expect.objectContaining({ name: key.spec.name, action: 'retired', retired: expect.objectContaining({ reason: 'drained', stillInUse: false }) })]);
  expect(await h.verifies(old)).toBe(false);
  expect(await h.verifies(current.apiKey)).toBe(true);
  expect((await h.keyRecord(key)).graceCredentials).toEqual([]);
  const after = await h.state(key);
  expect(after).toMatchObject({ phase: 'idle', retiring: [], lastRetirement: expect.objectContaining({ reason: 'drained' }) });
  expect(after.lastRetirement?.lastUsedAt).toBeUndefined();
  expect((await h.records.listActive()).some((k) => k.name === key.spec.name)).toBe(false);

  const [status] = (await h.status()).filter((s) => s.name === key.spec.name);
  expect(status).toMatchObject({ phase: 'idle', keyId: key.keyId, lastRotatedAt: cutoverAt.toISOString(), rotationEnabled: false });

  // The logs were captured (so the check below has something to look at).
  expect(h.fx.logLines.some((line) => line.includes('"rotation step done"') && line.includes(key.spec.name))).toBe(true);
  await h.assertNoPlaintext(key, [JSON.stringify(swept), JSON.stringify(status)]);
});

it('never shows a credential in a failed step\'s error, its record or the logs', async () => {
  const key = await h.declareKey({ consumers: 1 });
  // The key is revoked under the rotation: setSecret fails, and the error says why without the credential.
  await h.fx.manager.revoke(key.spec.tenant, key.keyId);
  const outcome = await h.runSteps(h.rotation(), key, newToken());
  expect(outcome.failedAt).toBe('setSecret');
  const state = await h.state(key);
  // Status shows the cause's own code, not a generic AWS failure.
  expect(state.failure).toMatchObject({ step: 'setSecret', code: 'KEY_REVOKED' });
  await h.assertNoPlaintext(key, [String(outcome.error?.message), String(outcome.error?.stack), JSON.stringify(state)]);
});

it('moves every consumer type it is given no client for, with clients of its own (an SSM parameter beside an inline rule)', async () => {
  const rule = inlineRule();
  const parameter = { type: 'ssm-parameter' as const, name: `/acme/${randomBytes(4).toString('hex')}/api-key` };
  const key = await h.declareKey({ rules: [rule], spec: { consumers: [rule, parameter] } });
  // The harness hands the function an IoT client only, as the Lambda hands it none.
  expect(await h.runSteps(h.rotation(), key, newToken())).toEqual({});
  const current = (await h.secretAt(key, 'AWSCURRENT'))!.apiKey;
  const ssm = new SSMClient({});
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: parameter.name, WithDecryption: true }));
  ssm.destroy();
  expect(Parameter?.Value === current).toBe(true);
  expect(await h.ruleHashes(key)).toEqual([hashCredential(current)]);
  expect((await h.state(key)).consumersVerified).toEqual([`iot-rule-inline:${rule.ruleName}`, `ssm-parameter:${parameter.name}`]);
});
