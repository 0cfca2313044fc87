import { newRulePayload, payloadOfRule, withKeyHeader } from './iot-rule-inline';

const target = { url: 'https://telemetry.example.com/v1/telemetry', headerName: 'x-api-key' };

describe('withKeyHeader', () => {
  it('sets the header on the HTTP action for the url and leaves every other action and header alone', () => {
    const payload = {
      sql: "SELECT * FROM 'devices/+/telemetry'",
      description: 'forward readings',
      ruleDisabled: true,
      awsIotSqlVersion: '2016-03-23',
      actions: [
        { republish: { topic: 'audit', roleArn: 'arn:aws:iam::1:role/r' } },
        { http: { url: target.url, confirmationUrl: 'https://telemetry.example.com/', headers: [{ key: 'x-source', value: 'iot' }, { key: 'X-API-KEY', value: 'old' }] } },
        { http: { url: 'https://elsewhere.example.com/', headers: [{ key: 'x-api-key', value: 'not ours' }] } },
      ],
      errorAction: { republish: { topic: 'errors', roleArn: 'arn:aws:iam::1:role/r' } },
    };

    const next = withKeyHeader(payload, target, 'NEW');

    expect(next).toEqual({
      ...payload,
      actions: [
        payload.actions[0],
        { http: { ...payload.actions[1].http, headers: [{ key: 'x-source', value: 'iot' }, { key: 'x-api-key', value: 'NEW' }] } },
        payload.actions[2],
      ],
    });
  });

  it('adds an HTTP action for the url when the rule has none', () => {
    const next = withKeyHeader({ sql: 's', actions: [{ republish: { topic: 't', roleArn: 'r' } }] }, target, 'NEW');
    expect(next.actions).toEqual([{ republish: { topic: 't', roleArn: 'r' } }, { http: { url: target.url, headers: [{ key: 'x-api-key', value: 'NEW' }] } }]);
  });
});

describe('payloadOfRule', () => {
  it('keeps every field ReplaceTopicRule takes and drops the read-only ones and an empty errorAction', () => {
    const rule = { ruleName: 'r', createdAt: new Date(), sql: 's', description: 'd', ruleDisabled: false, awsIotSqlVersion: '2015-10-08', actions: [], errorAction: {} };
    expect(payloadOfRule(rule)).toEqual({ sql: 's', description: 'd', ruleDisabled: false, awsIotSqlVersion: '2015-10-08', actions: [] });
  });
});

describe('newRulePayload', () => {
  it('creates the rule the spec declares, enabled, with the key in one HTTP action', () => {
    const rule = { type: 'iot-rule-inline' as const, ruleName: 'r', sql: 's', sqlVersion: '2016-03-23', ...target };
    expect(newRulePayload(rule, 'K')).toEqual({
      sql: 's',
      awsIotSqlVersion: '2016-03-23',
      ruleDisabled: false,
      actions: [{ http: { url: target.url, headers: [{ key: 'x-api-key', value: 'K' }] } }],
    });
  });
});
