/** Only hashes at rest: no table the service writes ever holds a key's plaintext. */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.stop());

async function scanAll(tableName: string): Promise<string> {
  const { Items } = await createDocumentClient().send(new ScanCommand({ TableName: tableName }));
  return JSON.stringify(Items ?? []);
}

it('stores hashes, never keys, in any table', async () => {
  const admin = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
  const issued: string[] = [admin];
  const created = await harness.call('POST', '/v1/tenants/acme/api-keys', {
    key: admin,
    body: { name: 'k', environment: 'production', permissions: ['telemetry:write'] },
  });
  issued.push(created.body.key);
  const regenerated = await harness.call('POST', `/v1/tenants/acme/api-keys/${created.body.id}/regenerate`, { key: admin, body: { graceSeconds: 60 } });
  issued.push(regenerated.body.key);
  issued.push((await harness.call('POST', '/auth/acme/apiKeys', { key: admin, body: { name: 'legacy' } })).body.key);
  // Readings that carry a key by mistake are the client's data, so this uses the key-free path.
  await harness.call('POST', '/v1/telemetry', { key: regenerated.body.key, body: { deviceId: 'd' } });
  await harness.call('POST', '/v1/verify', { body: { key: created.body.key } });
  await harness.server.service.deps.usage.flush();

  const dump = (await Promise.all(Object.values(harness.tables).map(scanAll))).join('\n');
  expect(dump.match(KEY_PATTERN_GLOBAL)).toBeNull();
  for (const key of issued) {
    expect(key).toMatch(/^kr_live_/);
    expect(dump).not.toContain(key);
    expect(dump).not.toContain(key.slice(12, 40));
  }
  // The hashes are what is there.
  expect(dump).toContain(hashCredential(regenerated.body.key));
  expect(dump).toContain(hashCredential(created.body.key));
});
