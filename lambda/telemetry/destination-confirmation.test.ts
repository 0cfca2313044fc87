import { isOwnTelemetryUrl, judgeConfirmation } from './destination-confirmation';

const own = { accountId: '123456789012', region: 'eu-west-1' };
const arn = (region = 'eu-west-1', account = '123456789012') => `arn:aws:iot:${region}:${account}:ruledestination/http/6f1a-22b3`;

describe('destination confirmations', () => {
  it('accepts its own account and region only', () => {
    expect(judgeConfirmation({ arn: arn(), confirmationToken: 't', enableUrl: 'https://x' }, own)).toMatchObject({ accept: true });
    expect(judgeConfirmation({ arn: arn('us-east-1'), confirmationToken: 't' }, own)).toEqual({ accept: false, reason: expect.stringContaining('us-east-1') });
    expect(judgeConfirmation({ arn: arn('eu-west-1', '210987654321'), confirmationToken: 't' }, own)).toEqual({ accept: false, reason: expect.stringContaining('210987654321') });
  });

  it('refuses what is not a destination confirmation', () => {
    for (const body of [{}, { arn: 'arn:aws:iot:eu-west-1:123456789012:rule/x', confirmationToken: 't' }, { arn: arn() }, 'text', null]) {
      expect(judgeConfirmation(body, own).accept).toBe(false);
    }
  });

  it('compares telemetry URLs without a trailing slash or case in the host', () => {
    expect(isOwnTelemetryUrl('https://LOCALHOST:8787/v1/telemetry/', 'https://localhost:8787/v1/telemetry')).toBe(true);
    expect(isOwnTelemetryUrl('https://localhost:8787/v1/other', 'https://localhost:8787/v1/telemetry')).toBe(false);
  });
});
