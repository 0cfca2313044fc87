/** pathDeeperThan: depth counting, which value is reported, and no recursion on deep input. */
import { pathDeeperThan } from './json-depth';

/** Builds the value in a loop: a recursive builder would overflow on the deep case. */
function nested(levels: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < levels; i++) value = i % 2 ? [value] : { b: value };
  return value;
}

it('counts the value itself as level 1 and scalars as no level', () => {
  expect(pathDeeperThan(1, 0)).toBeUndefined();
  expect(pathDeeperThan({ a: 1, b: [1, 'x', null] }, 2)).toBeUndefined();
  expect(pathDeeperThan({ a: 1, b: [1, 'x', null] }, 1)).toEqual(['b']);
  expect(pathDeeperThan(nested(5), 5)).toBeUndefined();
  expect(pathDeeperThan(nested(5), 4)).toEqual(['b', 0, 'b', 0]);
});

it('reports the first too-deep value in document order', () => {
  expect(pathDeeperThan({ a: [1], b: { c: [[2]] }, d: [[3]] }, 2)).toEqual(['b', 'c']);
  expect(pathDeeperThan([[1], [2, [3]], [[4]]], 2)).toEqual([1, 1]);
});

it('walks 200k levels without overflowing the stack', () => {
  expect(pathDeeperThan(nested(200_000), 32)).toHaveLength(32);
  expect(pathDeeperThan(nested(200_000), 200_000)).toBeUndefined();
});
