/**
 * The rotation's entries in the audit log, as `rotation`: started (createSecret), cut over
 * (finishSecret), retired (the sweep) and failed (a step failure); none holds a credential or a
 * credential's hash.
 */
import { DynamoDbAuditLog } from '../../lambda/store/dynamodb-audit-log';
import { createRotationHarness, hashCredential, HORIZON_MS, newToken, type RotationHarness, USAGE_LAG_MS } from './rotation-fixture';

let h: RotationHarness;
beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(() => h.destroy());

it('records a rotation started, cut over and its old credential retired, and a failed step', async () => {
  const key = await h.declareKey({ consumers: 1 });
  const token = newToken();
  // The harness's clock stands still unless moved; entries of one millisecond have no order.
  for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
    h.advance(1000);
    await h.rotation().handle({ Step: step, SecretId: key.secretArn, ClientRequestToken: token });
  }
  // SM retries a finished step: nothing new happens, so nothing new is recorded.
  await h.rotation().handle({ Step: 'finishSecret', SecretId: key.secretArn, ClientRequestToken: token });
  h.advance(HORIZON_MS + USAGE_LAG_MS + 1);
  expect((await h.sweep()).outcomes).toEqual([expect.objectContaining({ name: key.spec.name, action: 'retired' })]);

  const log = new DynamoDbAuditLog(h.fx.documentClient, h.fx.keysTable);
  const { entries } = await log.list(key.spec.tenant, { keyId: key.keyId, limit: 100 });
  expect(entries.map((entry) => [entry.action, entry.actor])).toEqual([
    ['rotation.retired', { type: 'rotation' }],
    ['rotation.cutover', { type: 'rotation' }],
    ['rotation.started', { type: 'rotation' }],
    ['create', { type: 'deploy' }],
  ]);
  expect(entries[2].detail).toContain(token);
  expect(entries[0].detail).toContain(`${key.firstCredential.slice(0, 12)}…`);

  // A step that fails records why.
  const failing = await h.declareKey({ consumers: 1 });
  await h.fx.manager.revoke(failing.spec.tenant, failing.keyId);
  expect((await h.runSteps(h.rotation(), failing, newToken())).failedAt).toBe('setSecret');
  // Found by its action: the still clock gives the failure and the start one timestamp, so no order.
  const failed = (await log.list(failing.spec.tenant, { keyId: failing.keyId, limit: 100 })).entries.find((entry) => entry.action === 'rotation.failed');
  expect(failed).toMatchObject({ action: 'rotation.failed', actor: { type: 'rotation' }, detail: expect.stringContaining('KEY_REVOKED') });

  const texts = [JSON.stringify(entries), JSON.stringify(failed)];
  await h.assertNoPlaintext(key, texts);
  await h.learnCredentials(failing);
  for (const credential of h.credentialsSeen) for (const text of texts) expect(text).not.toContain(hashCredential(credential));
});
