import { deviceIds, deviceTopic, simulatedReading } from './device-topics';
import { deviceIdLevel } from '../../provision/consumers/rule-sql';

describe('deviceTopic', () => {
  it.each([
    ['acme/telemetry/+', 'acme/telemetry/dev-1'],
    ['acme/+/telemetry', 'acme/dev-1/telemetry'],
    ['acme/#', 'acme/dev-1'],
    ['acme/+/x/+', 'acme/dev-1/x/dev-1'],
    ['acme/+/x/#', 'acme/dev-1/x'],
  ])('%s → %s', (filter, topic) => {
    expect(deviceTopic(filter, 'dev-1')).toBe(topic);
  });

  it("puts the id where the rule's SQL reads deviceId from", () => {
    for (const filter of ['acme/telemetry/+', 'a/+/b', 'acme/#', 'a/b/+/c/#']) {
      expect(deviceTopic(filter, 'dev-9').split('/')[deviceIdLevel(filter) - 1]).toBe('dev-9');
    }
  });

  it('refuses a filter without a wildcard', () => {
    expect(() => deviceTopic('acme/telemetry', 'dev-1')).toThrow(/no \+ or # level/);
  });
});

describe('simulated devices', () => {
  it('are named dev-1 … dev-N and send readings without a deviceId', () => {
    expect(deviceIds(3)).toEqual(['dev-1', 'dev-2', 'dev-3']);
    const reading = simulatedReading(0, 0);
    expect(Object.keys(reading).sort()).toEqual(['humidity', 'temp']);
    expect(reading.temp).toBeGreaterThan(15);
    expect(reading.temp).toBeLessThan(30);
  });
});
