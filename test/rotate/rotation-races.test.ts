/**
 * Races, in-process against the emulator (the real path races two RotateSecret calls, deploys and
 * sweeps in rotation-real-path.test.ts): a deploy of the key between any two steps leaves the
 * rotation on course, and sweeps running at once retire each old credential exactly once.
 */
import { hashCredential } from '../../lambda/keys/credential-hash';
import { ROTATION_STEPS } from '../../lambda/rotate/rotation-plan';
import { events } from '../provision/provision-fixture';
import { expectRotated } from './fault-matrix';
import { createRotationHarness, type DeclaredKeyFixture, HORIZON_MS, newToken, type RotationHarness, USAGE_LAG_MS } from './rotation-fixture';

let h: RotationHarness;

beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(() => h.destroy());

let digest = 1;
function deploy(key: DeclaredKeyFixture) {
  const input = { tenant: key.spec.tenant, name: key.spec.name, secretArn: key.secretArn };
  const previous = { ...input, specDigest: `digest-${digest}` };
  digest += 1;
  return h.fx.provisioner().handle(events.update({ ...input, specDigest: `digest-${digest}` }, previous));
}

it('a deploy between any two steps keeps consumers on the rotation, which finishes with no retry', async () => {
  const key = await h.declareKey({ consumers: 2 });
  const token = newToken();
  const fn = h.rotation();
  await deploy(key);
  for (const step of ROTATION_STEPS) {
    await fn.handle({ Step: step, SecretId: key.secretArn, ClientRequestToken: token });
    await h.learnCredentials(key);
    const result = await deploy(key);
    expect(result.keyId).toBe(key.keyId);
    await h.assertNothingLost(key);
    expect(await h.verifies(key.firstCredential)).toBe(true);
  }
  const current = await expectRotated(h, key, token);
  expect(await h.ruleHashes(key)).toEqual([hashCredential(current), hashCredential(current)]);
});

it('sweeps running at once retire each old credential exactly once', async () => {
  const keys = await Promise.all([1, 2, 3].map(() => h.declareKey({ consumers: 1 })));
  for (const key of keys) expect(await h.runSteps(h.rotation(), key, newToken())).toEqual({});
  h.advance(HORIZON_MS + USAGE_LAG_MS);
  const reports = await Promise.all([h.sweep(), h.sweep(), h.sweep()]);
  for (const key of keys) {
    const outcomes = reports.flatMap((report) => report.outcomes).filter((o) => o.name === key.spec.name);
    expect(outcomes.filter((o) => o.action === 'retired')).toHaveLength(1);
    // The others found the key busy, or already idle.
    expect(outcomes.filter((o) => o.action !== 'retired').every((o) => o.action === 'busy' || o.action === 'waiting')).toBe(true);
    expect(await h.verifies(key.firstCredential)).toBe(false);
    expect((await h.state(key)).lastRetirement).toMatchObject({ reason: 'drained' });
  }
  for (const key of keys) {
    const retiredLogs = h.fx.logLines.filter((line) => line.includes('"old credential retired"') && line.includes(`"keyName":"${key.spec.name}"`));
    expect(retiredLogs).toHaveLength(1);
  }
});

it('a new version supersedes an unfinished one: its consumers come back first, and its pending credential stops working', async () => {
  const key = await h.declareKey({ consumers: 2 });
  const abandoned = newToken();
  const fn = h.rotation();
  for (const step of ['createSecret', 'setSecret'] as const) await fn.handle({ Step: step, SecretId: key.secretArn, ClientRequestToken: abandoned });
  const first = (await h.secretVersion(key, abandoned))!.apiKey;
  expect(await h.verifies(first)).toBe(true);

  const next = newToken();
  expect(await h.runSteps(h.rotation(), key, next)).toEqual({});
  await h.learnCredentials(key);
  const current = await expectRotated(h, key, next);
  expect(current).not.toBe(first);
  expect(await h.verifies(first)).toBe(false);
  // A late step of the superseded version is refused and changes nothing.
  await expect(fn.handle({ Step: 'testSecret', SecretId: key.secretArn, ClientRequestToken: abandoned })).resolves.toBeDefined();
  await expect(fn.handle({ Step: 'finishSecret', SecretId: key.secretArn, ClientRequestToken: abandoned })).rejects.toMatchObject({ code: 'STEP_OUT_OF_ORDER' });
  expect(await expectRotated(h, key, next)).toBe(current);
});
