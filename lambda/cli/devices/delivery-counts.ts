/**
 * Rule deliveries counted by outcome, as `keyroll devices` prints them: the HTTP status class the
 * key service answered, or why nothing was answered. Pure: the emulator's records go in, counts
 * and printable lines come out.
 */
import type { IotDelivery } from '../../local-aws/iot-deliveries';

/**
 * `no answer`: sent, but no HTTP answer after the retries (connection refused, timeout).
 * `not sent`: IoT refused before sending, e.g. the destination is not ENABLED or the secret unreadable.
 */
export const OUTCOMES = ['2xx', '4xx', '5xx', 'no answer', 'not sent'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type OutcomeCounts = Record<Outcome, number>;

export const noOutcomes = (): OutcomeCounts => ({ '2xx': 0, '4xx': 0, '5xx': 0, 'no answer': 0, 'not sent': 0 });

export function outcomeOf(delivery: Pick<IotDelivery, 'result' | 'status'>): Outcome {
  if (delivery.result === 'not-sent') return 'not sent';
  if (delivery.status === undefined) return delivery.result === 'delivered' ? '2xx' : 'no answer';
  if (delivery.status >= 200 && delivery.status < 300) return '2xx';
  // 3xx is final for IoT (never followed, never retried): a refusal, counted with the 4xx.
  return delivery.status >= 500 ? '5xx' : '4xx';
}

export const totalOf = (counts: OutcomeCounts): number => OUTCOMES.reduce((sum, outcome) => sum + counts[outcome], 0);

/** `2xx: 10  4xx: 0  5xx: 0  no answer: 0  not sent: 0` */
export function formatCounts(counts: OutcomeCounts): string {
  return OUTCOMES.map((outcome) => `${outcome}: ${counts[outcome]}`).join('  ');
}
