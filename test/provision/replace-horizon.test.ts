/**
 * The replace path (environment or customer changed) when the key has reference rules, against the
 * emulator: those rules read the secret through IoT's get_secret, which caches it, so the superseded
 * key keeps working for the consumer cache horizon, expires then, and is revoked by the first apply
 * after it. The clock is moved instead of waited on.
 */
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { KeyVerifier } from '../../lambda/verify/key-verifier';
import { uniqueName } from '../local-aws/fixtures';
import { createProvisionFixture, events, inputOf, type ProvisionFixture, specOf } from './provision-fixture';

let fx: ProvisionFixture;
beforeAll(async () => {
  fx = await createProvisionFixture();
});
afterAll(() => fx.destroy());
afterEach(() => {
  expect(fx.logLines.join('\n')).not.toMatch(KEY_PATTERN);
});

const uniqueTenant = (prefix: string) => uniqueName(prefix).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
const HORIZON_SECONDS = 600;

/** The key service's verdict on a credential at `atMs`. */
const verifyAt = (apiKey: string, atMs: number) => new KeyVerifier({ store: fx.store, environment: 'production', clock: () => atMs }).verify(apiKey);

/** A key with a reference rule, deployed, then declared in another environment. */
async function replacedWithReferenceRules(referenceRules = ['acme_telemetry']) {
  const spec = specOf({ tenant: uniqueTenant('horizon'), referenceRules });
  await fx.putSpec(spec);
  const input = inputOf(spec, await fx.createSecret());
  const first = await fx.provisioner().handle(events.create(input));
  const old = (await fx.readSecret(input.secretArn))!;
  await fx.putSpec({ ...spec, environment: 'staging' });
  return { spec, input, old, oldKeyId: first.keyId };
}

describe('a replaced key with reference rules', () => {
  it('keeps working until the horizon, expires then, and is revoked by the first apply after it', async () => {
    const { spec, input, old, oldKeyId } = await replacedWithReferenceRules();
    let nowMs = Date.now();
    const provisioner = fx.provisioner({ consumerCacheSeconds: HORIZON_SECONDS, clock: () => new Date(nowMs) });
    const replacedAt = nowMs;

    const replaced = await provisioner.handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(replaced.keyId).not.toBe(oldKeyId);
    const horizon = new Date(replacedAt + HORIZON_SECONDS * 1000).toISOString();
    const oldKey = await fx.manager.get(spec.tenant, oldKeyId);
    expect(oldKey).toMatchObject({ expiresAt: horizon });
    expect(oldKey.revokedAt).toBeUndefined();
    expect(await verifyAt(old.apiKey, replacedAt + 1000)).toMatchObject({ ok: true, key: { id: oldKeyId } });
    expect(await fx.readRecord(spec.tenant, spec.name)).toMatchObject({ keyId: replaced.keyId, supersededKeys: [{ tenant: spec.tenant, keyId: oldKeyId, expiresAt: horizon }] });
    expect(fx.logLines.join('\n')).toMatch(new RegExp(`replaced key keeps working until reference rules have let go of it.*${oldKeyId}`));

    // An apply within the horizon leaves it working.
    nowMs = replacedAt + HORIZON_SECONDS * 1000 - 1000;
    await provisioner.handle(events.update({ ...input, specDigest: 'digest-3' }, { ...input, specDigest: 'digest-2' }));
    expect((await fx.manager.get(spec.tenant, oldKeyId)).revokedAt).toBeUndefined();
    expect(await verifyAt(old.apiKey, nowMs)).toMatchObject({ ok: true });

    // At the horizon it stops by itself; the next apply revokes it and forgets it.
    nowMs = replacedAt + HORIZON_SECONDS * 1000;
    expect(await verifyAt(old.apiKey, nowMs)).toMatchObject({ ok: false });
    await provisioner.handle(events.update({ ...input, specDigest: 'digest-4' }, { ...input, specDigest: 'digest-3' }));
    expect((await fx.manager.get(spec.tenant, oldKeyId)).revokedAt).toBeDefined();
    expect(await fx.readRecord(spec.tenant, spec.name)).not.toHaveProperty('supersededKeys');
    // The new key works throughout.
    const current = (await fx.readSecret(input.secretArn))!;
    expect(current.keyId).toBe(replaced.keyId);
    expect(await fx.verify(current.apiKey, 'staging')).toMatchObject({ ok: true, key: { id: replaced.keyId } });
  });

  it('takes the horizon from KEYROLL_CONSUMER_CACHE_SECONDS', async () => {
    const { spec, input, oldKeyId } = await replacedWithReferenceRules();
    const before = process.env.KEYROLL_CONSUMER_CACHE_SECONDS;
    process.env.KEYROLL_CONSUMER_CACHE_SECONDS = '120';
    const nowMs = Date.now();
    try {
      await fx.provisioner({ clock: () => new Date(nowMs) }).handle(events.update({ ...input, specDigest: 'digest-2' }, input));
    } finally {
      if (before === undefined) delete process.env.KEYROLL_CONSUMER_CACHE_SECONDS;
      else process.env.KEYROLL_CONSUMER_CACHE_SECONDS = before;
    }
    expect((await fx.manager.get(spec.tenant, oldKeyId)).expiresAt).toBe(new Date(nowMs + 120_000).toISOString());
  });

  it('is revoked with the rest on delete, horizon or not', async () => {
    const { spec, input, oldKeyId } = await replacedWithReferenceRules();
    const replaced = await fx.provisioner({ consumerCacheSeconds: HORIZON_SECONDS }).handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    await fx.provisioner().handle(events.delete({ ...input, specDigest: 'digest-2' }));

    for (const keyId of [oldKeyId, replaced.keyId]) expect((await fx.manager.get(spec.tenant, keyId)).revokedAt).toBeDefined();
  });
});

describe('a replaced key without reference rules', () => {
  it('is revoked at once: every consumer already holds the new key', async () => {
    const { spec, input, old, oldKeyId } = await replacedWithReferenceRules([]);

    await fx.provisioner({ consumerCacheSeconds: HORIZON_SECONDS }).handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect((await fx.manager.get(spec.tenant, oldKeyId)).revokedAt).toBeDefined();
    expect(await fx.verify(old.apiKey, 'production')).toMatchObject({ ok: false });
    expect(await fx.readRecord(spec.tenant, spec.name)).not.toHaveProperty('supersededKeys');
  });
});
