/**
 * When the old credential goes, in-process against the emulator. A straggler (something keyroll
 * doesn't know of) keeps using it: the sweep keeps it until graceMinutes after the cutover, then
 * retires it with a warning, and status shows where it was last used. An emergency rotation
 * retires it in finishSecret itself, once testSecret verified every written consumer. A key
 * destroyed mid-rotation or while draining leaves the sweep's index instead of failing every sweep.
 */
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { specItemKey } from '../../lambda/provision/key-spec';
import { events } from '../provision/provision-fixture';
import { withEmergencyRequested } from '../../lambda/rotate/rotation-plan';
import { UsageRecorder } from '../../lambda/usage/usage-recorder';
import { KeyVerifier } from '../../lambda/verify/key-verifier';
import { createRotationHarness, GRACE_MINUTES, HORIZON_MS, newToken, type RotationHarness, STUCK_AFTER_MS } from './rotation-fixture';

let h: RotationHarness;

beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(() => h.destroy());

const MINUTE = 60_000;

describe('a straggler on the old credential', () => {
  it('keeps it working until graceMinutes after the cutover, then loses it, with a warning and its last use in status', async () => {
    const key = await h.declareKey({ consumers: 1 });
    const old = key.firstCredential;
    expect(await h.runSteps(h.rotation(), key, newToken())).toEqual({});
    const cutoverAt = h.now().getTime();
    const graceUntil = cutoverAt + GRACE_MINUTES * MINUTE;

    // The key service's own path: the verifier opens the key, the usage recorder writes the use of
    // that credential (batched, to its pointer), which is what the sweep reads.
    const usage = new UsageRecorder({ store: h.fx.store, autoFlush: false, clock: () => h.now().getTime() });
    const straggle = async () => {
      const verification = await new KeyVerifier({ store: h.fx.store, environment: 'production', clock: () => h.now().getTime() }).verify(old);
      if (verification.ok) usage.recordUse(verification.key, hashCredential(old), 200);
      await usage.flush();
      return verification.ok;
    };

    let lastUse = '';
    for (let at = cutoverAt + 5 * MINUTE; at < graceUntil; at += 5 * MINUTE) {
      h.advance(at - h.now().getTime());
      expect(await straggle()).toBe(true);
      lastUse = h.now().toISOString();
      const swept = await h.sweep();
      expect(swept.outcomes.find((o) => o.name === key.spec.name)).toMatchObject({ action: 'waiting' });
      if (at >= cutoverAt + HORIZON_MS) {
        const [status] = (await h.status()).filter((s) => s.name === key.spec.name);
        expect(status).toMatchObject({ phase: 'draining', oldCredential: { graceUntil: new Date(graceUntil).toISOString(), lastUsedAt: lastUse } });
      }
    }
    expect(await h.verifies(old)).toBe(true);

    h.advance(graceUntil - h.now().getTime());
    // The bound holds even before a sweep runs: the key record itself ends the grace.
    expect(await h.verifies(old)).toBe(false);
    const logged = h.fx.logLines.length;
    const swept = await h.sweep();
    expect(swept.outcomes.find((o) => o.name === key.spec.name)).toMatchObject({
      action: 'retired',
      retired: { reason: 'grace-ended', stillInUse: true, lastUsedAt: lastUse },
    });
    expect(await straggle()).toBe(false);

    const warnings = h.fx.logLines.slice(logged).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 'WARN');
    expect(warnings).toEqual([
      expect.objectContaining({ message: expect.stringContaining('still in use'), keyName: key.spec.name, lastUsedAt: lastUse, credentialStart: expect.any(String) }),
    ]);
    const state = await h.state(key);
    expect(state).toMatchObject({ phase: 'idle', retiring: [], lastRetirement: { reason: 'grace-ended', lastUsedAt: lastUse, at: new Date(graceUntil).toISOString() } });
    const [status] = (await h.status()).filter((s) => s.name === key.spec.name);
    expect(status).toMatchObject({ phase: 'idle', lastRetirement: { reason: 'grace-ended', lastUsedAt: lastUse } });
    expect(status.oldCredential).toBeUndefined();
    await h.assertNoPlaintext(key, [JSON.stringify(status)]);
  });

  it('is retired without a warning once unused for the horizon, before the grace ends', async () => {
    const key = await h.declareKey({ consumers: 1 });
    expect(await h.runSteps(h.rotation(), key, newToken())).toEqual({});
    const usage = new UsageRecorder({ store: h.fx.store, autoFlush: false, clock: () => h.now().getTime() });
    const record = await h.keyRecord(key);
    // One last use 10 minutes in, then nothing: retired a horizon (plus the usage lag) later.
    h.advance(10 * MINUTE);
    usage.recordUse(record, hashCredential(key.firstCredential), 200);
    await usage.flush();
    h.advance(HORIZON_MS - 1);
    expect((await h.sweep()).outcomes.find((o) => o.name === key.spec.name)).toMatchObject({ action: 'waiting' });
    h.advance(MINUTE);
    expect((await h.sweep()).outcomes.find((o) => o.name === key.spec.name)).toMatchObject({ action: 'retired', retired: { reason: 'drained', stillInUse: false } });
    expect(await h.verifies(key.firstCredential)).toBe(false);
  });
});

describe('an emergency rotation', () => {
  it('retires the old credential in finishSecret, once every written consumer is verified, and warns about reference rules', async () => {
    const key = await h.declareKey({ consumers: 2, spec: { referenceRules: ['acme_reference_rule'] } });
    const record = await h.records.get(key.spec.tenant, key.spec.name);
    await h.records.save(key.spec.tenant, key.spec.name, withEmergencyRequested(record.state), record.version);
    const token = newToken();
    const fn = h.rotation();

    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) {
      await fn.handle({ Step: step, SecretId: key.secretArn, ClientRequestToken: token });
      // No drain before the cutover either: the old credential works until finishSecret.
      expect(await h.verifies(key.firstCredential)).toBe(true);
    }
    expect(await h.state(key)).toMatchObject({ phase: 'tested', emergency: true });
    expect((await h.state(key)).emergencyRequested).toBeUndefined();

    const logged = h.fx.logLines.length;
    await fn.handle({ Step: 'finishSecret', SecretId: key.secretArn, ClientRequestToken: token });
    const current = (await h.secretAt(key, 'AWSCURRENT'))!.apiKey;
    expect(await h.verifies(key.firstCredential)).toBe(false);
    expect(await h.verifies(current)).toBe(true);
    expect(await h.ruleHashes(key)).toEqual([hashCredential(current), hashCredential(current)]);
    expect((await h.keyRecord(key)).graceCredentials).toEqual([]);
    expect(await h.state(key)).toMatchObject({ phase: 'idle', retiring: [], emergency: true, lastRetirement: { reason: 'emergency' } });
    const warnings = h.fx.logLines.slice(logged).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 'WARN');
    expect(warnings).toEqual([expect.objectContaining({ message: expect.stringContaining('emergency'), referenceRules: ['acme_reference_rule'], note: expect.stringContaining('cache') })]);

    // A retry of finishSecret after the emergency cutover changes nothing.
    await fn.handle({ Step: 'finishSecret', SecretId: key.secretArn, ClientRequestToken: token });
    expect(await h.verifies(current)).toBe(true);
    // The next rotation is an ordinary one again.
    expect(await h.runSteps(h.rotation(), key, newToken())).toEqual({});
    expect(await h.state(key)).toMatchObject({ phase: 'draining', emergency: false });
    expect(await h.verifies(current)).toBe(true);
    await h.assertNoPlaintext(key);
  });
});

describe('a key destroyed while it rotates or drains', () => {
  it.each(['draining', 'rotating'] as const)('leaves the sweep with nothing to do (%s)', async (when) => {
    const key = await h.declareKey({ consumers: 1 });
    const fn = h.rotation();
    const token = newToken();
    const steps = when === 'draining' ? (['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) : (['createSecret', 'setSecret'] as const);
    for (const step of steps) await fn.handle({ Step: step, SecretId: key.secretArn, ClientRequestToken: token });
    // terraform destroy: the provisioner's delete (revokes the key), then the spec item and the secret.
    await h.fx.provisioner().handle(events.delete({ tenant: key.spec.tenant, name: key.spec.name, secretArn: key.secretArn, specDigest: 'digest-1' }));
    await h.fx.documentClient.send(new DeleteCommand({ TableName: h.fx.keysTable, Key: specItemKey(key.spec.tenant, key.spec.name) }));
    await h.fx.secrets.send(new DeleteSecretCommand({ SecretId: key.secretArn, ForceDeleteWithoutRecovery: true }));

    h.advance(STUCK_AFTER_MS + HORIZON_MS);
    const swept = await h.sweep();
    expect(swept.outcomes.find((o) => o.name === key.spec.name)).toMatchObject({ action: 'repaired', detail: expect.stringContaining('revoked or gone') });
    expect((await h.records.listActive()).some((k) => k.name === key.spec.name)).toBe(false);
    expect(await h.state(key)).toMatchObject({ phase: 'idle', retiring: [] });
    expect((await h.sweep()).outcomes.find((o) => o.name === key.spec.name)).toBeUndefined();
  });
});
