/**
 * The SQL of a consumer's IoT topic rule: the device's reading as it was sent, with `deviceId` taken
 * from the topic when the reading has none. One generator for both consumer modes (the stacks write
 * it into a reference rule and into an inline rule's spec), so the two can never select differently.
 *
 * Where `deviceId` comes from, in order:
 * 1. the reading's own `deviceId` field, kept as the device sent it;
 * 2. else the topic level at the filter's first wildcard: `+` matches exactly the device's level
 *    (`acme/telemetry/+` → `topic(3)`, `acme/+/telemetry` → `topic(2)`), and a final `#` takes the
 *    first level under its prefix (`acme/#` → `topic(2)`, so `acme/dev-7/sub` gives `dev-7`; a
 *    message to `acme` itself has no such level and no deviceId from the topic).
 * A filter without a wildcard names no level that varies by device, so it is refused
 * (`topicFilterProblem`) rather than guessed at.
 */

/** The SQL version keyroll's rules declare. */
export const RULE_SQL_VERSION = '2016-03-23';

/** The reading's field the telemetry endpoint requires, filled from the topic when missing. */
export const DEVICE_ID_FIELD = 'deviceId';

/**
 * What makes `topic` unfit as a consumer's topic filter, worded as the fix ("must …"), or undefined
 * when it fits: an MQTT topic filter (`+` a whole level, `#` only as the whole last level) with a
 * wildcard for the device's level, and no quote (it is quoted inside the SQL).
 *
 * @example
 * topicFilterProblem('acme/telemetry'); // 'must have a `+` or `#` level …'
 */
export function topicFilterProblem(topic: string): string | undefined {
  if (topic.includes("'")) return 'must not contain quotes';
  const levels = topic.split('/');
  // MQTT 3.1.1 §4.7.1: a wildcard fills a whole level, and `#` must be the last one.
  if (levels.some((level) => level.includes('+') && level !== '+')) return 'must use `+` only as a whole level, e.g. acme/+/telemetry';
  if (levels.some((level, i) => level.includes('#') && (level !== '#' || i !== levels.length - 1))) {
    return 'must use `#` only as the whole last level, e.g. acme/#';
  }
  if (!levels.some(isWildcard)) {
    return `must have a \`+\` (or a final \`#\`) at the level that names the device, e.g. acme/telemetry/+: a reading without its own ${DEVICE_ID_FIELD} takes it from that level of the topic`;
  }
  return undefined;
}

/**
 * The topic level (from 1, as IoT's `topic(n)` counts) a reading's deviceId is taken from: the
 * filter's first wildcard. Throws for a filter `topicFilterProblem` refuses.
 */
export function deviceIdLevel(topic: string): number {
  const problem = topicFilterProblem(topic);
  if (problem) throw new Error(`The consumer topic ${JSON.stringify(topic)} ${problem}.`);
  return topic.split('/').findIndex(isWildcard) + 1;
}

/**
 * `SELECT *, CASE isUndefined(deviceId) WHEN true THEN topic(n) ELSE deviceId END AS deviceId FROM '<topic>'`.
 * `SELECT *` keeps every field the device sends. The CASE keeps a device's own deviceId whichever
 * way an engine settles a SELECT item named like a payload field (AWS documents neither way): the
 * item is the payload's own value whenever the payload has one.
 * See https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html (topic, isUndefined)
 * and https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-case.html
 *
 * @example
 * consumerRuleSql('acme/telemetry/+');
 * // "SELECT *, CASE isUndefined(deviceId) WHEN true THEN topic(3) ELSE deviceId END AS deviceId FROM 'acme/telemetry/+'"
 */
export function consumerRuleSql(topic: string): string {
  const field = DEVICE_ID_FIELD;
  return `SELECT *, CASE isUndefined(${field}) WHEN true THEN topic(${deviceIdLevel(topic)}) ELSE ${field} END AS ${field} FROM '${topic}'`;
}

const isWildcard = (level: string) => level === '+' || level === '#';
