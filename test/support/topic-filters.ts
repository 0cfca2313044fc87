/** fast-check arbitraries for MQTT topic filters and the topics that match them, for the rule SQL's property tests. */
import fc from 'fast-check';

/** A topic level with no wildcard in it: what a device's id or a fixed path part looks like. */
export const literalLevel = fc.stringMatching(/^[a-zA-Z0-9_.:-]{1,10}$/);

export interface FilterWithTopic {
  readonly filter: string;
  /** A topic the filter matches, with at least one level for every wildcard. */
  readonly topic: string;
  /** What the filter's first wildcard matched: for `#`, the first of its levels. */
  readonly firstWildcardMatch: string;
}

/**
 * A topic filter with at least one wildcard: literal and `+` levels (empty ones too, which MQTT
 * allows), optionally ending in `#`, after the literal levels of `root` (which keep a filter on a
 * shared emulator off other tests' topics).
 */
export function topicFilters(root: readonly string[] = [], options: TopicFilterOptions = {}): fc.Arbitrary<string> {
  return filterLevels(root, options).map((levels) => levels.join('/'));
}

export interface TopicFilterOptions {
  /**
   * Whether levels may be empty (`a//+`). Off for topics sent over HTTP, whose paths may collapse
   * a double slash. @default true
   */
  readonly emptyLevels?: boolean;
}

/** A filter as `topicFilters` makes them, with a topic it matches. */
export function filtersWithTopics(root: readonly string[] = [], options: TopicFilterOptions = {}): fc.Arbitrary<FilterWithTopic> {
  return filterLevels(root, options).chain((levels) =>
    fc
      .tuple(...levels.map((level) => (level === '+' ? literalLevel.map((v) => [v]) : level === '#' ? fc.array(literalLevel, { minLength: 1, maxLength: 3 }) : fc.constant([level]))))
      .map((matched) => {
        const first = levels.findIndex((level) => level === '+' || level === '#');
        return { filter: levels.join('/'), topic: matched.flat().join('/'), firstWildcardMatch: matched[first][0] };
      }),
  );
}

function filterLevels(root: readonly string[], options: TopicFilterOptions): fc.Arbitrary<string[]> {
  const level = fc.oneof(
    { arbitrary: literalLevel, weight: 4 },
    { arbitrary: fc.constant('+'), weight: 2 },
    ...((options.emptyLevels ?? true) ? [{ arbitrary: fc.constant(''), weight: 1 }] : []),
  );
  return fc
    .tuple(fc.array(level, { maxLength: 6 }), fc.boolean())
    .map(([middle, hash]) => [...root, ...middle, ...(hash ? ['#'] : [])])
    .filter((levels) => levels.length > 0 && levels.some((l) => l === '+' || l === '#'));
}
