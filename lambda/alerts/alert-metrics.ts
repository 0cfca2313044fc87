/**
 * Raised alerts as CloudWatch metrics: one `UnusualActivity` count per alert, with its type as the
 * `alert` dimension, in CloudWatch's embedded metric format (Powertools Metrics), so on Lambda
 * the log line is the metric: no PutMetricData call, no I/O on the request path. The platform
 * stack's alarms (stacks/platform/alert-alarms.ts) watch exactly these names (ALERT_METRIC).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type Alert, ALERT_METRIC } from './alert';
import type { AlertMetrics } from './alert-monitor';

export class PowertoolsAlertMetrics implements AlertMetrics {
  constructor(private readonly metrics: Metrics = new Metrics({ namespace: ALERT_METRIC.namespace, serviceName: ALERT_METRIC.serviceName })) {}

  raised(alert: Alert): void {
    // A single metric is written at once: alerts are rare, and a flush has no request to end.
    this.metrics.singleMetric().addDimension(ALERT_METRIC.typeDimension, alert.type).addMetric(ALERT_METRIC.metricName, MetricUnit.Count, 1);
  }
}
