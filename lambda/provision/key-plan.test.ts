import { generateKey } from '../keys/key-format';
import { applyUpdate, createRecord, regenerateCredential, revoke } from '../keys/key-transitions';
import { supersededKeys } from '../handout/key-ref';
import { configurationChanges, planKey, staleConsumers } from './key-plan';
import { keySecretValue } from '../handout/key-secret';
import { type KeySpec, keySpecSchema } from './key-spec';

const now = new Date('2026-06-01T12:00:00Z');
const nowMs = now.getTime();
const spec: KeySpec = keySpecSchema.parse({
  tenant: 'acme',
  name: 'sensors',
  environment: 'production',
  permissions: ['telemetry:write'],
  rateLimit: { limit: 100, windowSeconds: 60 },
  tags: ['iot'],
  consumers: [],
  referenceRules: [],
});

function issued(overrides: Partial<KeySpec> = {}) {
  const s = { ...spec, ...overrides };
  const apiKey = generateKey(s.environment);
  const record = createRecord(s.tenant, { ...s, customerId: s.customerId }, apiKey, now);
  return { record, apiKey, secret: keySecretValue(record, apiKey), provisioned: [{ tenant: record.tenant, keyId: record.id }] };
}

describe('planKey', () => {
  it('keeps the key in the secret when it matches the spec', () => {
    const { record, apiKey, secret, provisioned } = issued();
    expect(planKey(spec, { secret, key: record, provisioned }, { nowMs })).toEqual({ kind: 'keep', key: record, apiKey });
  });

  it('keeps the key and lists only the configuration that drifted', () => {
    const { record, secret, provisioned } = issued();
    const plan = planKey({ ...spec, permissions: ['telemetry:*'], tags: [] }, { secret, key: record, provisioned }, { nowMs });
    expect(plan).toMatchObject({ kind: 'keep', changes: { permissions: ['telemetry:*'], tags: [] } });
  });

  it('issues a key when the secret is empty, the key is gone or revoked', () => {
    const { record, secret, provisioned } = issued();
    expect(planKey(spec, { provisioned }, { nowMs })).toEqual({ kind: 'issue', reason: 'secret-empty' });
    expect(planKey(spec, { secret, provisioned }, { nowMs })).toEqual({ kind: 'issue', reason: 'key-not-found' });
    expect(planKey(spec, { secret, key: revoke(record, now), provisioned }, { nowMs })).toEqual({ kind: 'issue', reason: 'key-revoked' });
  });

  it('issues a key when the secret names a key the provisioner did not record issuing for this declaration', () => {
    const { record, secret, provisioned } = issued();
    const issue = { kind: 'issue', reason: 'key-not-provisioned' };
    expect(planKey(spec, { secret, key: record, provisioned: [] }, { nowMs })).toEqual(issue);
    expect(planKey(spec, { secret, key: record, provisioned: [{ tenant: record.tenant, keyId: 'key_other' }] }, { nowMs })).toEqual(issue);
    // Same id, other tenant: a different key.
    expect(planKey(spec, { secret: { ...secret, tenant: 'other' }, key: record, provisioned }, { nowMs })).toEqual(issue);
  });

  it('keeps a key recorded as pending: an earlier run issued it and got as far as the secret', () => {
    const { record, apiKey, secret } = issued();
    const provisioned = [{ tenant: 'acme', keyId: 'key_earlier' }, { tenant: record.tenant, keyId: record.id }];
    expect(planKey(spec, { secret, key: record, provisioned }, { nowMs })).toEqual({ kind: 'keep', key: record, apiKey });
  });

  it('replaces the key when a field a key cannot change did', () => {
    const { record, apiKey, secret, provisioned } = issued();
    expect(planKey({ ...spec, environment: 'staging' }, { secret, key: record, provisioned }, { nowMs })).toEqual({
      kind: 'replace',
      reason: 'environment-changed',
      previous: record,
      previousApiKey: apiKey,
    });
    expect(planKey({ ...spec, customerId: 'c-1' }, { secret, key: record, provisioned }, { nowMs })).toMatchObject({ kind: 'replace', reason: 'customer-changed' });
    // The tenant moved: the old tenant's key is this declaration's (its record says so), so it is replaced (and later revoked).
    expect(planKey({ ...spec, tenant: 'globex' }, { secret, key: record, provisioned }, { nowMs })).toMatchObject({
      kind: 'replace',
      reason: 'tenant-changed',
    });
  });

  it('regenerates a key whose secret no longer opens it, and keeps one whose old secret is still in grace', () => {
    const { record, secret, provisioned } = issued();
    const regeneratedHard = regenerateCredential(record, generateKey('production'), 0, now);
    expect(planKey(spec, { secret, key: regeneratedHard, provisioned }, { nowMs })).toMatchObject({ kind: 'regenerate', key: regeneratedHard });
    const inGrace = regenerateCredential(record, generateKey('production'), 600, now);
    expect(planKey(spec, { secret, key: inGrace, provisioned }, { nowMs })).toMatchObject({ kind: 'keep' });
  });
});

describe('configurationChanges', () => {
  it('is undefined when nothing drifted, whatever offset the expiry is written with', () => {
    const { record } = issued({ expiresAt: '2027-01-31T00:00:00Z' });
    expect(configurationChanges({ ...spec, expiresAt: '2027-01-31T01:00:00+01:00' }, record)).toBeUndefined();
  });

  it('clears the expiry when the spec dropped it', () => {
    const { record } = issued({ expiresAt: '2027-01-31T00:00:00Z' });
    expect(configurationChanges(spec, record)).toEqual({ expiresAt: null });
  });

  it('never touches enabled: a key disabled by hand stays disabled', () => {
    const disabled = applyUpdate(issued().record, { enabled: false }, now);
    expect(configurationChanges({ ...spec, name: 'renamed' }, disabled)).toEqual({ name: 'renamed' });
  });
});

describe('staleConsumers and supersededKeys', () => {
  const rule = (ruleName: string) => ({ type: 'iot-rule-inline' as const, ruleName });
  const env = (functionName: string, variable: string) => ({ type: 'lambda-env' as const, functionName, variable });
  const declared: KeySpec = {
    ...spec,
    consumers: [
      { ...rule('keep'), sql: 's', sqlVersion: '2016-03-23', url: 'https://x.test', headerName: 'x-api-key' },
      env('ingest', 'KEYROLL_API_KEY'),
      { type: 'ssm-parameter', name: '/acme/key', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k' },
    ],
  };

  it('finds consumers the spec no longer declares, of every type, each once', () => {
    const previous = [rule('keep'), rule('gone'), rule('gone'), env('ingest', 'KEYROLL_API_KEY'), env('ingest', 'OLD_VARIABLE'), { type: 'ssm-parameter' as const, name: '/acme/old' }];
    expect(staleConsumers(previous, declared)).toEqual([rule('gone'), env('ingest', 'OLD_VARIABLE'), { type: 'ssm-parameter', name: '/acme/old' }]);
    expect(staleConsumers(undefined, declared)).toEqual([]);
  });

  it('takes a consumer whose declaration changed but not its name for the same consumer', () => {
    expect(staleConsumers([{ type: 'ssm-parameter', name: '/acme/key' }], declared)).toEqual([]);
  });

  it('lists each earlier key once and never the current one', () => {
    const current = { tenant: 'acme', keyId: 'key_new' };
    const old = { tenant: 'acme', keyId: 'key_old' };
    expect(supersededKeys(current, [old, undefined, current, { ...old }])).toEqual([old]);
  });
});
