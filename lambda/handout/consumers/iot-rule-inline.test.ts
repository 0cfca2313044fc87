import type { InlineIotRule } from '../../provision/key-spec';
import { rulePayload } from './iot-rule-inline';

const rule: InlineIotRule = {
  type: 'iot-rule-inline',
  ruleName: 'acme_legacy',
  sql: "SELECT *, CASE isUndefined(deviceId) WHEN true THEN topic(3) ELSE deviceId END AS deviceId FROM 'acme/legacy/+'",
  sqlVersion: '2016-03-23',
  url: 'https://telemetry.example.com/v1/telemetry',
  headerName: 'x-api-key',
  description: 'keyroll: telemetry for acme/legacy',
};

describe('rulePayload', () => {
  it('is the whole rule the spec declares, enabled, with the key in its one HTTP action', () => {
    expect(rulePayload(rule, 'K')).toEqual({
      sql: rule.sql,
      awsIotSqlVersion: '2016-03-23',
      description: rule.description,
      ruleDisabled: false,
      actions: [{ http: { url: rule.url, headers: [{ key: 'x-api-key', value: 'K' }, { key: 'content-type', value: 'application/json' }] } }],
    });
  });

  it('has no errorAction and no confirmationUrl, whatever an earlier version of the rule had', () => {
    const payload = rulePayload(rule, 'K');
    expect(payload).not.toHaveProperty('errorAction');
    expect(payload.actions![0].http).not.toHaveProperty('confirmationUrl');
  });

  it('leaves out a description the spec does not declare, so a rebuild clears an old one', () => {
    const { description: _, ...undescribed } = rule;
    expect(rulePayload(undescribed, 'K')).not.toHaveProperty('description');
  });

  it('keeps a rule disabled when told it was', () => {
    expect(rulePayload(rule, 'K', { disabled: true }).ruleDisabled).toBe(true);
  });
});
