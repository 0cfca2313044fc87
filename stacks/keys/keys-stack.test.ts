import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { stringify } from 'yaml';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { PlatformStack } from '../platform/platform-stack';
import { TEST_TARGET, testApp } from '../test-support';
import type { ApiKeyProps } from './api-key-props';
import { checkKeysFile } from './keys-file-check';
import { KeysStack } from './keys-stack';

const dashboard: ApiKeyProps = { tenant: 'acme', name: 'dashboard', environment: 'staging', permissions: ['customers:read'] };

function synth(keys: readonly ApiKeyProps[], declaredPermissions?: Record<string, string[]>) {
  const app = Testing.app();
  const platform = new PlatformStack(app, 'keyroll-platform', TEST_TARGET);
  const stack = new KeysStack(app, 'keyroll-keys', { target: TEST_TARGET, platform, keys, declaredPermissions });
  return Testing.synth(stack);
}

type TableItem = { table_name: string; hash_key: string; range_key: string; item: string };
const items = (synthesized: string) => Object.entries(JSON.parse(synthesized).resource.aws_dynamodb_table_item as Record<string, TableItem>);

describe('KeysStack', () => {
  it("writes a tenant's declared permissions into the keys table, and issues its keys after them", () => {
    const synthesized = synth([dashboard], { acme: ['customers:read', 'billing:read'] });
    const [[id, permissions]] = items(synthesized).filter(([, i]) => JSON.parse(i.item).sk.S === 'PERMISSIONS');
    expect(JSON.parse(permissions.item)).toEqual({
      pk: { S: 'TENANT#acme' },
      sk: { S: 'PERMISSIONS' },
      kind: { S: 'permissions' },
      permissions: { L: [{ S: 'customers:read' }, { S: 'billing:read' }] },
    });
    expect(permissions).toMatchObject({ hash_key: 'pk', range_key: 'sk', table_name: expect.stringMatching(/aws_dynamodb_table\.[\w-]+\.name/) });
    const invocation = Object.values(JSON.parse(synthesized).resource.aws_lambda_invocation as Record<string, { depends_on: string[] }>)[0];
    expect(invocation.depends_on).toContain(`aws_dynamodb_table_item.${id}`);
    expect(synthesized).not.toMatch(KEY_PATTERN);
  });

  it('writes no permissions item for a tenant that declares none', () => {
    const synthesized = synth([dashboard]);
    expect(items(synthesized).map(([, i]) => JSON.parse(i.item).sk.S)).toEqual(['dashboard']);
  });

  it('holds keys to their tenant’s declaration, and refuses a bad declaration, at synth', () => {
    expect(() => synth([{ ...dashboard, permissions: ['billing:raed'] }], { acme: ['billing:read'] })).toThrow(
      /ApiKey "acme\/dashboard" is invalid:\n {2}- `permissions\[0\]` is "billing:raed", which is not a known permission — did you mean "billing:read"\?/,
    );
    expect(() => synth([dashboard], { acme: ['customers:read', 'billing:*'] })).toThrow(/tenant acme are invalid:\n {2}- `permissions\[1\]` is "billing:\*" — must be an action/);
    expect(() => synth([dashboard], { 'Not A Tenant': ['customers:read'] })).toThrow(/declaredPermissions names tenant "Not A Tenant"/);
  });

  it('lists every clash between keys in one error', () => {
    const rule = { type: 'iot-rule' as const, ruleName: 'shared', topic: 't/+' };
    expect(() => synth([dashboard, dashboard, { ...dashboard, name: 'a', consumers: [rule] }, { ...dashboard, name: 'b', consumers: [rule] }])).toThrow(
      /The declared keys clash:\n {2}- ApiKey "acme\/dashboard": `name` .*declared twice.*\n {2}- ApiKey "acme\/b": `consumers\[0\].ruleName` is "shared", already the rule of acme\/a/,
    );
  });

  // One list of checks serves both: a keys file that would fail at synth fails `keyroll check` first.
  it.each<[string, Partial<ApiKeyProps> & Record<string, unknown>]>([
    ['a bad environment', { environment: 'qa' as never }],
    ['a misspelt prop', { permision: ['x:y'] }],
    ['a misspelt permission', { permissions: ['telemetry:wrte'] }],
    ['more than 10 tags', { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00Z' }],
    ['a grace under IoT’s cache', { rotation: { everyDays: 7, graceMinutes: 5 }, consumers: [{ type: 'iot-rule', ruleName: 'r', topic: 't/+' }] }],
    ['a rule named twice', { consumers: [{ type: 'iot-rule', ruleName: 'r', topic: 't/+' }, { type: 'iot-rule', ruleName: 'r', topic: 'u/+' }] }],
    ['a name unfit for AWS', { name: 'Sensor Fleet' }],
  ])('refuses %s both in `keyroll check` and at synth', (_, change) => {
    const key = { ...dashboard, ...change };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-stack-')), 'keys.yaml');
    fs.writeFileSync(file, stringify({ keys: [key] }));
    expect(checkKeysFile(file).problems).toHaveLength(1);
    expect(() => testApp([key as ApiKeyProps])).toThrow(/is invalid/);
  });
});
