import { formatCounts, noOutcomes, outcomeOf } from './delivery-counts';

describe('outcomeOf', () => {
  it.each([
    [{ result: 'delivered', status: 202 }, '2xx'],
    [{ result: 'delivered' }, '2xx'],
    [{ result: 'failed', status: 401 }, '4xx'],
    [{ result: 'failed', status: 302 }, '4xx'],
    [{ result: 'failed', status: 429 }, '4xx'],
    [{ result: 'failed', status: 503 }, '5xx'],
    [{ result: 'failed' }, 'no answer'],
    [{ result: 'not-sent' }, 'not sent'],
  ] as const)('%j is %s', (delivery, outcome) => {
    expect(outcomeOf(delivery)).toBe(outcome);
  });
});

it('formats every outcome, zeros too, in a fixed order', () => {
  expect(formatCounts({ ...noOutcomes(), '2xx': 10 })).toBe('2xx: 10  4xx: 0  5xx: 0  no answer: 0  not sent: 0');
});
