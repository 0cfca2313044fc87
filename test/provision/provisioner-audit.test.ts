/**
 * The provisioner's entries in the audit log: a deploy that issues, reconfigures and destroys a
 * declared key records each change once, as `deploy`, with no credential in any entry.
 */
import { hashCredential } from '../../lambda/keys/credential-hash';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { DynamoDbAuditLog } from '../../lambda/store/dynamodb-audit-log';
import { createProvisionFixture, events, inputOf, type ProvisionFixture, specOf } from './provision-fixture';

let fx: ProvisionFixture;
beforeAll(async () => {
  fx = await createProvisionFixture();
});
afterAll(() => fx.destroy());

it('records the key a deploy issues, the changes it makes and the revocation at destroy, as deploy', async () => {
  const spec = specOf();
  await fx.putSpec(spec);
  const input = inputOf(spec, await fx.createSecret());
  const { keyId } = await fx.provisioner().handle(events.create(input));
  const issued = (await fx.readSecret(input.secretArn))!.apiKey;

  await fx.putSpec({ ...spec, rateLimit: { limit: 1200, windowSeconds: 60 } });
  const changed = { ...input, specDigest: 'digest-2' };
  await fx.provisioner().handle(events.update(changed, input));
  // A repeated apply changes nothing, so it records nothing.
  await fx.provisioner().handle(events.update(changed, changed));
  await fx.provisioner().handle(events.delete(changed));

  const log = new DynamoDbAuditLog(fx.documentClient, fx.keysTable);
  const { entries } = await log.list(spec.tenant, { keyId, limit: 100 });
  expect(entries.map((entry) => [entry.action, entry.actor])).toEqual([
    ['revoke', { type: 'deploy' }],
    ['update', { type: 'deploy' }],
    ['create', { type: 'deploy' }],
  ]);
  expect(entries[1].changes).toEqual({ rateLimit: { from: { limit: 600, windowSeconds: 60 }, to: { limit: 1200, windowSeconds: 60 } } });
  expect(entries[2].changes).toMatchObject({ name: { from: null, to: spec.name }, permissions: { from: null, to: spec.permissions } });
  for (const entry of entries) expect(entry.sourceIp).toBeUndefined();

  const text = JSON.stringify(entries);
  expect(text.match(KEY_PATTERN_GLOBAL) ?? []).toEqual([]);
  expect(text).not.toContain(hashCredential(issued));
});
