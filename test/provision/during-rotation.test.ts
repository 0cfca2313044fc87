/**
 * A deploy in the middle of a rotation, against the emulator, with the rotation's own steps
 * (keyroll-rotation's handler, run in-process) moving the key: the deploy writes consumers with the
 * credential the rotation has them on, so the rotation finishes as if no deploy had happened, and
 * a deploy that would replace the key refuses (ROTATION_IN_PROGRESS) and changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { AWSCURRENT, AWSPENDING, readSecretVersion } from '../../lambda/handout/key-secret';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import type { KeySecretValue } from '../../lambda/provision/key-spec';
import { createRotationFunction, type RotationFunction } from '../../lambda/rotate/rotation-function';
import type { RotationStep } from '../../lambda/rotate/rotation-plan';
import { uniqueName } from '../local-aws/fixtures';
import { createProvisionFixture, events, headerSentTo, inlineRule, inputOf, type ProvisionFixture, specOf, TELEMETRY_URL } from './provision-fixture';

let fx: ProvisionFixture;
let rotation: RotationFunction;
beforeAll(async () => {
  fx = await createProvisionFixture();
  rotation = createRotationFunction({ documentClient: fx.documentClient, secrets: fx.secrets, consumerClients: { iot: fx.iot }, keysTable: fx.keysTable }, {});
});
afterAll(() => fx.destroy());
afterEach(() => {
  expect(fx.logLines.join('\n')).not.toMatch(KEY_PATTERN);
});

const uniqueTenant = (prefix: string) => uniqueName(prefix).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);

/** A declared key with an inline rule, deployed into a secret named as keys as code names it (the rotation acts only on those). */
async function deployed() {
  const rule = inlineRule();
  const spec = specOf({ tenant: uniqueTenant('mid-rotation'), name: `sensors-${randomUUID().slice(0, 8)}`, consumers: [rule], rotation: { everyDays: 30, graceMinutes: 60 } });
  await fx.putSpec(spec);
  const { ARN } = await fx.secrets.send(new CreateSecretCommand({ Name: `keyroll/${spec.tenant}/${spec.name}` }));
  const input = inputOf(spec, ARN!);
  const { keyId } = await fx.provisioner().handle(events.create(input));
  const token = randomUUID();
  const step = (name: RotationStep) => rotation.handle({ Step: name, SecretId: input.secretArn, ClientRequestToken: token });
  return { spec, rule, input, keyId, token, step };
}

async function version(secretArn: string, stage: typeof AWSCURRENT | typeof AWSPENDING): Promise<KeySecretValue> {
  const read = await readSecretVersion(fx.secrets, secretArn, { stage });
  if (read.status !== 'present') throw new Error(`no ${stage} version`);
  return read.value;
}

async function ruleHolds(ruleName: string): Promise<string | undefined> {
  const sent = headerSentTo(await fx.getRule(ruleName), TELEMETRY_URL, 'x-api-key');
  return sent && hashCredential(sent);
}

describe('a deploy after setSecret moved the consumers to the pending credential', () => {
  it('keeps them on it, so testSecret and finishSecret complete the rotation', async () => {
    const { spec, rule, input, keyId, step } = await deployed();
    const current = await version(input.secretArn, AWSCURRENT);
    await step('createSecret');
    await step('setSecret');
    const pending = await version(input.secretArn, AWSPENDING);
    expect(await ruleHolds(rule.ruleName)).toBe(hashCredential(pending.apiKey));

    // A deploy mid-rotation: the key is kept, its configuration changes.
    await fx.putSpec({ ...spec, permissions: ['telemetry:write', 'devices:read'] });
    const updated = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(updated.keyId).toBe(keyId);
    expect(await ruleHolds(rule.ruleName)).toBe(hashCredential(pending.apiKey));
    expect(await version(input.secretArn, AWSCURRENT)).toEqual(current);
    expect(await version(input.secretArn, AWSPENDING)).toEqual(pending);
    expect((await fx.manager.get(spec.tenant, keyId)).permissions).toEqual(['telemetry:write', 'devices:read']);
    expect(fx.logLines.join('\n')).toContain('writing its pending credential into consumers');

    await step('testSecret');
    await step('finishSecret');
    expect((await version(input.secretArn, AWSCURRENT)).apiKey).toBe(pending.apiKey);
    expect(await fx.verify(pending.apiKey, 'production')).toMatchObject({ ok: true, key: { id: keyId } });
    // The old credential is in grace, as the rotation left it.
    expect(await fx.verify(current.apiKey, 'production')).toMatchObject({ ok: true, key: { id: keyId } });

    // After the cutover a deploy hands out the new current credential.
    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-3' }, { ...input, specDigest: 'digest-2' }));
    expect(await ruleHolds(rule.ruleName)).toBe(hashCredential(pending.apiKey));
  });
});

describe('a deploy after createSecret, before setSecret', () => {
  it('writes the current credential, which setSecret then moves with the others', async () => {
    const { spec, rule, input, step } = await deployed();
    const current = await version(input.secretArn, AWSCURRENT);
    await step('createSecret');
    const added = inlineRule();
    await fx.putSpec({ ...spec, consumers: [rule, added] });

    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(await ruleHolds(added.ruleName)).toBe(hashCredential(current.apiKey));
    await step('setSecret');
    await step('testSecret');
    await step('finishSecret');
    const next = await version(input.secretArn, AWSCURRENT);
    expect(next.apiKey).not.toBe(current.apiKey);
    for (const ruleName of [rule.ruleName, added.ruleName]) expect(await ruleHolds(ruleName)).toBe(hashCredential(next.apiKey));
  });
});

describe('a deploy that would replace the key during a rotation', () => {
  it('fails with ROTATION_IN_PROGRESS, changes nothing, and goes through once the rotation finished', async () => {
    const { spec, rule, input, keyId, step } = await deployed();
    await step('createSecret');
    await step('setSecret');
    const current = await version(input.secretArn, AWSCURRENT);
    const pending = await version(input.secretArn, AWSPENDING);
    await fx.putSpec({ ...spec, environment: 'staging' });

    const error = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input)).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'ROTATION_IN_PROGRESS' });
    expect((error as Error).message).toMatch(
      new RegExp(`A rotation of key \`${spec.name}\` of tenant \`${spec.tenant}\` is under way \\(phase set, secret version [\\w-]+\\), and this apply would replace the key.*Re-run the apply once the rotation has finished`),
    );
    expect((await fx.manager.list(spec.tenant)).map((key) => ({ id: key.id, revoked: Boolean(key.revokedAt) }))).toEqual([{ id: keyId, revoked: false }]);
    expect(await version(input.secretArn, AWSCURRENT)).toEqual(current);
    expect(await ruleHolds(rule.ruleName)).toBe(hashCredential(pending.apiKey));

    await step('testSecret');
    await step('finishSecret');
    const replaced = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-3' }, input));
    expect(replaced.keyId).not.toBe(keyId);
    expect((await version(input.secretArn, AWSCURRENT)).environment).toBe('staging');
  });
});

