/** IoT tagging on the local AWS emulator, which moto 5.2.1 lacks and the Terraform AWS provider needs for topic rules. */
import {
  CreateTopicRuleCommand,
  DeleteTopicRuleCommand,
  GetTopicRuleCommand,
  IoTClient,
  ListTagsForResourceCommand,
  ReplaceTopicRuleCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-iot';
import { emulatorClientConfig, uniqueName } from './fixtures';

const iot = new IoTClient(emulatorClientConfig());
afterAll(() => iot.destroy());

const payload = { sql: "SELECT * FROM 'keyroll/rotation'", actions: [] };

async function createRule(tags?: string): Promise<{ name: string; arn: string }> {
  const name = uniqueName('rule');
  await iot.send(new CreateTopicRuleCommand({ ruleName: name, topicRulePayload: payload, tags }));
  const { ruleArn } = await iot.send(new GetTopicRuleCommand({ ruleName: name }));
  return { name, arn: ruleArn! };
}

async function tagsOf(resourceArn: string): Promise<Record<string, string | undefined>> {
  const { tags } = await iot.send(new ListTagsForResourceCommand({ resourceArn }));
  return Object.fromEntries((tags ?? []).map((tag) => [tag.Key!, tag.Value]));
}

describe('happy path', () => {
  it('round-trips TagResource, ListTagsForResource and UntagResource on a topic rule', async () => {
    const rule = await createRule();
    expect(await tagsOf(rule.arn)).toEqual({});

    await iot.send(new TagResourceCommand({ resourceArn: rule.arn, tags: [{ Key: 'tenant', Value: 't-1' }, { Key: 'managed-by', Value: 'keyroll' }] }));
    expect(await tagsOf(rule.arn)).toEqual({ tenant: 't-1', 'managed-by': 'keyroll' });

    await iot.send(new UntagResourceCommand({ resourceArn: rule.arn, tagKeys: ['tenant'] }));
    expect(await tagsOf(rule.arn)).toEqual({ 'managed-by': 'keyroll' });
  });

  it('keeps tags given at CreateTopicRule (the x-amz-tagging query string Terraform sends)', async () => {
    const rule = await createRule('tenant=t-2&purpose=key%20rotation');

    expect(await tagsOf(rule.arn)).toEqual({ tenant: 't-2', purpose: 'key rotation' });
  });

  it('keeps tags across ReplaceTopicRule and drops them with DeleteTopicRule', async () => {
    const rule = await createRule('tenant=t-3');

    await iot.send(new ReplaceTopicRuleCommand({ ruleName: rule.name, topicRulePayload: { ...payload, description: 'changed' } }));
    expect(await tagsOf(rule.arn)).toEqual({ tenant: 't-3' });

    await iot.send(new DeleteTopicRuleCommand({ ruleName: rule.name }));
    await iot.send(new CreateTopicRuleCommand({ ruleName: rule.name, topicRulePayload: payload }));
    expect(await tagsOf(rule.arn)).toEqual({});
  });
});

describe('errors', () => {
  it('answers ResourceNotFoundException for a rule that does not exist', async () => {
    const rule = await createRule();
    const missing = rule.arn.replace(rule.name, uniqueName('missing'));

    await expect(iot.send(new ListTagsForResourceCommand({ resourceArn: missing }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(iot.send(new TagResourceCommand({ resourceArn: missing, tags: [{ Key: 'a', Value: 'b' }] }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
