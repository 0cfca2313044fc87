import { apiKeyConstructId, iotRuleRoleName } from './resource-names';

describe('resource names', () => {
  it('tells apart keys whose tenant and name only differ in where the dash falls', () => {
    expect(apiKeyConstructId('a-b', 'c')).not.toBe(apiKeyConstructId('a', 'b-c'));
  });

  it('keeps names that fit as they are', () => {
    expect(apiKeyConstructId('acme', 'sensors')).toBe('acme_sensors');
    expect(iotRuleRoleName('acme_sensors')).toBe('keyroll-iot-acme_sensors');
  });

  it('shortens long names to the IAM limit with a hash, so long names sharing a head stay apart', () => {
    const head = 'r'.repeat(60);
    const [a, b] = [iotRuleRoleName(`${head}_a`), iotRuleRoleName(`${head}_b`)];
    expect(a).not.toBe(b);
    expect([a.length, b.length]).toEqual([64, 64]);
    expect(a).toMatch(/^keyroll-iot-r+\.[0-9a-f]{8}$/);
  });

  it('never shortens a name into one that fits unshortened', () => {
    // Rule names hold letters, digits and underscores only: no unshortened name has a `.`.
    const exact = iotRuleRoleName('x'.repeat(52));
    expect(exact).toBe(`keyroll-iot-${'x'.repeat(52)}`);
    expect(iotRuleRoleName('x'.repeat(53))).toContain('.');
  });
});
