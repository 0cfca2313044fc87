/**
 * A consumer that can't be updated: a declared inline rule that exists but is not tagged for the
 * key (someone re-tagged it, or it was made by hand). setSecret fails on it; the old credential
 * keeps working; status says failed, names the consumer and the fix; Secrets Manager's retries
 * fail the same way; and the sweep's repair leaves nothing holding the pending credential, even
 * though it cannot write the rule it does not own.
 */
import { hashCredential } from '../../lambda/keys/credential-hash';
import { createRotationHarness, newToken, type RotationHarness, STUCK_AFTER_MS } from './rotation-fixture';

let h: RotationHarness;

beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(() => h.destroy());

it('fails the rotation, names the consumer and the fix, and the repair leaves no one on the pending credential', async () => {
  const key = await h.declareKey({ consumers: 2 });
  const [, unowned] = key.rules;
  // The second rule now belongs to another key: keyroll must not write into it.
  await h.fx.tagRule(unowned.ruleName, { 'keyroll:key': 'acme/someone-else' });
  const token = newToken();

  for (let attempt = 1; attempt <= 2; attempt++) {
    // Each of SM's attempts fails at setSecret, with nothing of the old credential taken away.
    const outcome = await h.runSteps(h.rotation(), key, token);
    expect(outcome).toMatchObject({ failedAt: 'setSecret', error: { code: 'RULE_NOT_OWNED' } });
    expect(outcome.error?.message).toContain(`iot-rule-inline:${unowned.ruleName}`);
    expect(await h.verifies(key.firstCredential)).toBe(true);
    await h.assertNothingLost(key);
  }
  expect(await h.ruleHashes(key)).toEqual([expect.any(String), hashCredential(key.firstCredential)]);

  const [failing] = (await h.status()).filter((s) => s.name === key.spec.name);
  expect(failing).toMatchObject({
    phase: 'failed',
    failure: {
      code: 'RULE_NOT_OWNED',
      step: 'setSecret',
      consumer: `iot-rule-inline:${unowned.ruleName}`,
      fix: expect.stringContaining(`keyroll:key=${key.spec.tenant}/${key.spec.name}`),
    },
  });

  // SM gave up; the sweep repairs.
  const pending = (await h.secretVersion(key, token))!.apiKey;
  h.advance(STUCK_AFTER_MS);
  const swept = await h.sweep();
  expect(swept.outcomes.find((o) => o.name === key.spec.name)).toMatchObject({ action: 'repaired' });
  const oldHash = hashCredential(key.firstCredential);
  expect(await h.ruleHashes(key)).toEqual([oldHash, oldHash]);
  expect(await h.verifies(pending)).toBe(false);
  expect(await h.verifies(key.firstCredential)).toBe(true);
  expect(await h.labels(key)).toEqual({ current: key.firstVersionId, pending: undefined });
  expect((await h.keyRecord(key)).pendingCredential).toBeUndefined();
  // The rule that isn't ours is as its owner left it (tag and all).
  expect(await h.fx.ruleTags(unowned.ruleName)).toMatchObject({ 'keyroll:key': 'acme/someone-else' });

  const [repaired] = (await h.status()).filter((s) => s.name === key.spec.name);
  expect(repaired).toMatchObject({
    phase: 'failed',
    failure: { code: 'RULE_NOT_OWNED', consumer: `iot-rule-inline:${unowned.ruleName}`, fix: expect.stringContaining('keyroll:key=') },
  });
  await h.assertNoPlaintext(key, [JSON.stringify(repaired), JSON.stringify(swept)]);
});
