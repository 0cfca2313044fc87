/** The lines `keyroll devices` (and `keyroll start`) print about simulated devices. */
import { formatCounts, totalOf } from './delivery-counts';
import type { FleetTotals, SecondReport } from './device-fleet';

/** Why there are no delivery counts on AWS, and where to look instead. */
export const AWS_DELIVERIES_UNOBSERVABLE =
  "Deliveries are not observable from here on AWS (IoT reports a failed action only to the rule's errorAction and to its CloudWatch logs, when IoT logging is on): only publishes are counted. `GET /v1/telemetry` shows what arrived.";

/** `12:00:01  published 10  deliveries 2xx: 10  4xx: 0  5xx: 0  no answer: 0  not sent: 0` */
export function secondLine(second: SecondReport): string {
  const time = second.at.toTimeString().slice(0, 8);
  const failed = second.publishFailed > 0 ? `  publish failed: ${second.publishFailed}` : '';
  const deliveries = second.deliveries ? `  deliveries ${formatCounts(second.deliveries)}` : '';
  return `${time}  published ${second.published}${failed}${deliveries}`;
}

/** The summary after Ctrl-C or --duration: publishes, then deliveries overall and per rule. */
export function summaryLines(totals: FleetTotals, topics: number): string[] {
  const failed = totals.publishFailed > 0 ? `, ${totals.publishFailed} failed` : '';
  const lines = [`Published ${totals.published} readings to ${topics} ${topics === 1 ? 'topic' : 'topics'} in ${totals.seconds.toFixed(1)} s${failed}.`];
  if (!totals.deliveries || !totals.byRule) {
    lines.push(AWS_DELIVERIES_UNOBSERVABLE);
    return lines;
  }
  lines.push(`Deliveries (${totalOf(totals.deliveries)}): ${formatCounts(totals.deliveries)}`);
  const width = Math.max(...totals.byRule.map(({ consumer }) => consumer.ruleName.length));
  for (const { consumer, deliveries } of totals.byRule) {
    lines.push(`  ${consumer.ruleName.padEnd(width)}  ${formatCounts(deliveries)}  (${consumer.topic}, key ${consumer.tenant}/${consumer.keyName})`);
  }
  if (totals.unread > 0) lines.push(`(${totals.unread} deliveries were dropped from the emulator's record before they were read; the counts are low by that many at most.)`);
  return lines;
}
