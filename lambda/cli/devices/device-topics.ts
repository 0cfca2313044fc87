/**
 * The topics simulated devices publish to: a consumer's topic filter with the device's id at the
 * level its rule takes `deviceId` from (see lambda/provision/consumers/rule-sql.ts), and the
 * readings they send, which carry no deviceId of their own, as a plain device's would.
 */

/** `dev-1` … `dev-<count>` (with another prefix, `<prefix>1` …). */
export function deviceIds(count: number, prefix = 'dev-'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/**
 * The topic device `deviceId` publishes to under `filter`: the first wildcard level becomes the
 * id, as the rule's `topic(n)` reads it back. Any later `+` gets the id too (any level matches
 * it), and a later `#` is dropped (it matches no level at all, MQTT 3.1.1 §4.7.1.2).
 *
 * @example
 * deviceTopic('acme/telemetry/+', 'dev-1'); // 'acme/telemetry/dev-1'
 * deviceTopic('acme/#', 'dev-1');           // 'acme/dev-1'
 */
export function deviceTopic(filter: string, deviceId: string): string {
  let filled = false;
  const levels: string[] = [];
  for (const level of filter.split('/')) {
    if (level === '+' || (level === '#' && !filled)) {
      levels.push(deviceId);
      filled = true;
    } else if (level !== '#') {
      levels.push(level);
    }
  }
  if (!filled) throw new Error(`The topic filter ${JSON.stringify(filter)} has no + or # level for the device's id.`);
  return levels.join('/');
}

/** A plausible room-sensor reading, varying smoothly per device and over time; no deviceId. */
export function simulatedReading(deviceIndex: number, sequence: number): { temp: number; humidity: number } {
  const temp = 20 + (deviceIndex % 5) * 0.5 + Math.sin(sequence / 10 + deviceIndex);
  const humidity = 40 + 5 * Math.cos(sequence / 15 + deviceIndex);
  return { temp: Math.round(temp * 10) / 10, humidity: Math.round(humidity) };
}
