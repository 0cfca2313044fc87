/** The consumer writer (registry → inline IoT rule) against IoT on the emulator: write, read back as a hash, remove. */
import { CreateTopicRuleCommand, GetTopicRuleCommand, IoTClient, ReplaceTopicRuleCommand } from '@aws-sdk/client-iot';
import { consumerOwner } from '../../lambda/handout/consumers/consumer-owner';
import { consumerClients, createConsumerWriter } from '../../lambda/handout/consumers/registry';
import { rulePayload } from '../../lambda/handout/consumers/iot-rule-inline';
import { HandoutError } from '../../lambda/handout/errors';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { generateKey, KEY_PATTERN } from '../../lambda/keys/key-format';
import { consumerRuleSql, RULE_SQL_VERSION } from '../../lambda/provision/consumers/rule-sql';
import type { InlineIotRule } from '../../lambda/provision/key-spec';
import { uniqueName } from '../local-aws/fixtures';

const iot = new IoTClient({});
const consumers = createConsumerWriter(consumerClients({ iot }));
const owner = consumerOwner({ tenant: 'acme', name: uniqueName('sensors') });
afterAll(() => iot.destroy());

const ruleOf = (overrides: Partial<InlineIotRule> = {}): InlineIotRule => ({
  type: 'iot-rule-inline',
  ruleName: uniqueName('handout_rule'),
  sql: consumerRuleSql('devices/+/telemetry'),
  sqlVersion: RULE_SQL_VERSION,
  url: 'https://telemetry.keyroll.test/v1/telemetry',
  headerName: 'x-api-key',
  ...overrides,
});

describe('readBackHash', () => {
  it('is the hash of the credential the rule sends, never the credential, and follows each write', async () => {
    const rule = ruleOf();
    const first = generateKey('production');
    const second = generateKey('production');

    const arn = await consumers.write(rule, first, owner);
    const afterFirst = await consumers.readBackHash(rule);
    await consumers.write(rule, second, owner);

    expect(arn).toContain(rule.ruleName);
    expect(afterFirst).toBe(hashCredential(first));
    expect(afterFirst).not.toMatch(KEY_PATTERN);
    expect(await consumers.readBackHash(rule)).toBe(hashCredential(second));
  });

  it('is undefined for a rule that does not exist, or that no longer sends the header to the declared URL', async () => {
    const rule = ruleOf();
    expect(await consumers.readBackHash(rule)).toBeUndefined();

    await consumers.write(rule, generateKey('production'), owner);
    expect(await consumers.readBackHash({ ...rule, url: 'https://elsewhere.keyroll.test/v1/telemetry' })).toBeUndefined();
    expect(await consumers.readBackHash({ ...rule, headerName: 'x-other-key' })).toBeUndefined();
  });

  it('matches the header name without case, as HTTP does', async () => {
    const rule = ruleOf();
    const credential = generateKey('production');
    // Someone rebuilt the rule by hand with the header spelled differently.
    await consumers.write(rule, credential, owner);
    await iot.send(new ReplaceTopicRuleCommand({ ruleName: rule.ruleName, topicRulePayload: rulePayload({ ...rule, headerName: 'X-Api-Key' }, credential) }));

    expect(await consumers.readBackHash(rule)).toBe(hashCredential(credential));
  });
});

describe('write and remove', () => {
  it('refuses a rule keyroll did not create for this key (RULE_NOT_OWNED) and leaves it as it was', async () => {
    const rule = ruleOf();
    const theirs = generateKey('production');
    await iot.send(new CreateTopicRuleCommand({ ruleName: rule.ruleName, topicRulePayload: rulePayload(rule, theirs) }));

    const error = await consumers.write(rule, generateKey('production'), owner).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HandoutError);
    expect((error as HandoutError).code).toBe('RULE_NOT_OWNED');
    expect((error as Error).message).not.toMatch(KEY_PATTERN);
    expect(await consumers.readBackHash(rule)).toBe(hashCredential(theirs));
    expect(await consumers.remove(rule, owner)).toBe('not-owned');
  });

  it('removes by the ref alone (what a record remembers), repeatably', async () => {
    const rule = ruleOf();
    await consumers.write(rule, generateKey('production'), owner);
    const ref = { type: 'iot-rule-inline' as const, ruleName: rule.ruleName };

    expect(await consumers.remove(ref, owner)).toBe('deleted');
    expect(await consumers.remove(ref, owner)).toBe('absent');
    await expect(iot.send(new GetTopicRuleCommand({ ruleName: rule.ruleName }))).rejects.toThrow();
    expect(consumers.describe(ref)).toBe(`IoT topic rule ${rule.ruleName}`);
  });
});
