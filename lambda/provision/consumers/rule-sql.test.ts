import fc from 'fast-check';
import { filtersWithTopics, literalLevel, topicFilters } from '../../../test/support/topic-filters';
import { consumerRuleSql, deviceIdLevel, topicFilterProblem } from './rule-sql';

const isWildcard = (level: string) => level === '+' || level === '#';

describe('consumerRuleSql', () => {
  it('keeps the reading and fills deviceId from the topic when the reading has none', () => {
    expect(consumerRuleSql('acme/telemetry/+')).toBe(
      "SELECT *, CASE isUndefined(deviceId) WHEN true THEN topic(3) ELSE deviceId END AS deviceId FROM 'acme/telemetry/+'",
    );
  });

  it.each([
    ['acme/telemetry/+', 3],
    ['acme/+/telemetry', 2],
    ['+/telemetry', 1],
    ['acme/+/+/readings', 2],
    ['acme/#', 2],
    ['acme/+/#', 2],
    ['#', 1],
    ['acme//+', 3],
  ])('takes deviceId for %s from topic(%i), the level of the first wildcard', (topic, level) => {
    expect(deviceIdLevel(topic)).toBe(level);
    expect(consumerRuleSql(topic)).toContain(`THEN topic(${level}) ELSE`);
  });

  it('refuses to guess for a filter that topicFilterProblem refuses', () => {
    expect(() => consumerRuleSql('acme/telemetry')).toThrow(/The consumer topic "acme\/telemetry" must have a `\+`/);
  });

  describe('for any topic filter with a wildcard', () => {
    it('names the level of its first wildcard, within the filter', () => {
      fc.assert(
        fc.property(topicFilters(), (filter) => {
          const levels = filter.split('/');
          const n = deviceIdLevel(filter);
          expect(n).toBeGreaterThanOrEqual(1);
          expect(n).toBeLessThanOrEqual(levels.length);
          expect(isWildcard(levels[n - 1])).toBe(true);
          expect(levels.slice(0, n - 1).some(isWildcard)).toBe(false);
        }),
      );
    });

    it('names, in every topic it matches, a level the wildcard matched and not a fixed one', () => {
      fc.assert(
        fc.property(filtersWithTopics(), ({ filter, topic, firstWildcardMatch }) => {
          const n = deviceIdLevel(filter);
          const topicLevels = topic.split('/');
          // topic(n) as IoT evaluates it: the n-th level of the topic the message was published to.
          expect(topicLevels[n - 1]).toBe(firstWildcardMatch);
          // Every level before it is the filter's own, so the same level is taken in every match.
          expect(topicLevels.slice(0, n - 1)).toEqual(filter.split('/').slice(0, n - 1));
        }),
      );
    });

    it('selects from exactly that filter, quoted, after keeping every field', () => {
      fc.assert(
        fc.property(topicFilters(), (filter) => {
          const sql = consumerRuleSql(filter);
          expect(sql.startsWith('SELECT *, ')).toBe(true);
          expect(sql.endsWith(` FROM '${filter}'`)).toBe(true);
          // The only quotes are the filter's own, so the SQL cannot be broken out of.
          expect(sql.split("'")).toHaveLength(3);
        }),
      );
    });
  });
});

describe('topicFilterProblem', () => {
  it('accepts MQTT topic filters with a wildcard', () => {
    fc.assert(fc.property(topicFilters(), (filter) => expect(topicFilterProblem(filter)).toBeUndefined()));
  });

  it('refuses a filter without a wildcard, saying where deviceId would come from', () => {
    fc.assert(
      fc.property(fc.array(literalLevel, { minLength: 1, maxLength: 6 }), (levels) => {
        expect(topicFilterProblem(levels.join('/'))).toMatch(/^must have a `\+` \(or a final `#`\) at the level that names the device, e\.g\. acme\/telemetry\/\+: a reading without its own deviceId/);
      }),
    );
  });

  it.each([
    ['acme/tele+/x', 'must use `+` only as a whole level, e.g. acme/+/telemetry'],
    ['acme/+x', 'must use `+` only as a whole level, e.g. acme/+/telemetry'],
    ['acme/#/readings', 'must use `#` only as the whole last level, e.g. acme/#'],
    ['acme/dev#', 'must use `#` only as the whole last level, e.g. acme/#'],
    ["acme/'+", 'must not contain quotes'],
  ])('refuses %s', (filter, problem) => {
    expect(topicFilterProblem(filter)).toBe(problem);
  });
});
