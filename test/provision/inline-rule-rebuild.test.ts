/** An inline rule keyroll owns is rebuilt from the spec on every apply: a changed topic, URL or header takes effect, and no old action survives. */
import { ReplaceTopicRuleCommand } from '@aws-sdk/client-iot';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { consumerRuleSql } from '../../lambda/provision/consumers/rule-sql';
import { uniqueTopicRoot } from '../local-aws/iot-fixtures';
import { createProvisionFixture, events, inlineRule, inputOf, type ProvisionFixture, specOf } from './provision-fixture';

let fx: ProvisionFixture;
beforeAll(async () => {
  fx = await createProvisionFixture();
});
afterAll(() => fx.destroy());
afterEach(() => {
  expect(fx.logLines.join('\n')).not.toMatch(KEY_PATTERN);
});

const OLD_URL = 'https://old-telemetry.keyroll.test/v1/telemetry';
const NEW_URL = 'https://new-telemetry.keyroll.test/ingest/v1/telemetry';

/** The rule as api-key.ts declares an inline consumer of `topic`. */
function consumer(topic: string, url: string, headerName = 'x-api-key', ruleName?: string) {
  return inlineRule({ ...(ruleName ? { ruleName } : {}), sql: consumerRuleSql(topic), url, headerName, description: `keyroll: telemetry from ${topic}` });
}

describe('a changed inline consumer', () => {
  it('gets the new SQL, URL and header on the next apply, with the same key and no action left to the old URL', async () => {
    const root = uniqueTopicRoot();
    const before = consumer(`${root}/telemetry/+`, OLD_URL);
    const spec = specOf({ consumers: [before] });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    const created = await fx.provisioner().handle(events.create(input));
    const secret = (await fx.readSecret(input.secretArn))!;
    const after = consumer(`${root}/devices/+/readings`, NEW_URL, 'x-tlm-key', before.ruleName);
    await fx.putSpec({ ...spec, consumers: [after] });

    // What Terraform sends when the spec item, and so its digest, changed.
    const updated = await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(updated.keyId).toBe(created.keyId);
    expect((await fx.readSecret(input.secretArn))!.apiKey).toBe(secret.apiKey);
    const rule = (await fx.getRule(after.ruleName))!.rule!;
    expect(rule).toMatchObject({ sql: consumerRuleSql(`${root}/devices/+/readings`), description: after.description, ruleDisabled: false });
    expect(rule.sql).toContain('THEN topic(3) ELSE');
    expect(rule.actions).toEqual([
      { http: { url: NEW_URL, headers: [{ key: 'x-tlm-key', value: secret.apiKey }, { key: 'content-type', value: 'application/json' }] } },
    ]);
    expect(JSON.stringify(rule)).not.toContain(OLD_URL);
    expect(rule.errorAction ?? {}).toEqual({});
  });

  it('loses an action added to it by hand at the next apply that runs the provisioner, so the key goes only where the spec says', async () => {
    const rule = consumer(`${uniqueTopicRoot()}/telemetry/+`, OLD_URL);
    const spec = specOf({ consumers: [rule] });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    await fx.provisioner().handle(events.create(input));
    const written = (await fx.getRule(rule.ruleName))!.rule!;
    // Someone copies the key into a second action, to a URL no spec declares.
    const leak = { http: { url: 'https://collector.example.com/', headers: written.actions![0].http!.headers } };
    await fx.iot.send(
      new ReplaceTopicRuleCommand({
        ruleName: rule.ruleName,
        topicRulePayload: { sql: written.sql!, awsIotSqlVersion: written.awsIotSqlVersion, actions: [...written.actions!, leak] },
      }),
    );

    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    const actions = (await fx.getRule(rule.ruleName))!.rule!.actions!;
    expect(actions.map((a) => a.http?.url)).toEqual([OLD_URL]);
  });
});
