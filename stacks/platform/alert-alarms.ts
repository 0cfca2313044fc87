/**
 * CloudWatch alarms on the key service's unusual-activity alerts: one per alert type, on the
 * `UnusualActivity` count the service emits for each raised alert (lambda/alerts/alert.ts), and
 * optionally the `keyroll-alerts` SNS topic with an email subscription that they notify.
 */
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Construct } from 'constructs';
import { ALERT_METRIC, ALERT_TYPES, type AlertType } from '../../lambda/alerts/alert';
import { ALERT_EMAIL_ENV, isAlertEmail } from '../../lambda/deploy-env/alert-settings';

export const ALERT_TOPIC_NAME = 'keyroll-alerts';
export const alertAlarmName = (type: AlertType) => `keyroll-alert-${type}`;
/** Alerts are counted per 5 minutes: the alarm goes off with the first alert of a window. */
export const ALERT_ALARM_PERIOD_SECONDS = 300;

/** What each alert means, for the alarm's description (and the email SNS sends with it). */
const MEANING: Record<AlertType, string> = {
  'error-rate': "a key's share of 401/403/429 answers over the alert window went above the threshold (a broken integration, or someone probing with it)",
  'request-rate': "a key's requests over the alert window went far above its own trailing baseline (a runaway client, or a leaked key)",
  'new-source': 'a key was used from a source IP it had not been used from before',
  'retired-credential': 'a credential the key no longer accepts (retired by a rotation or a regenerate) was presented (a consumer still on the old credential, or a leaked one)',
};

export interface AlertAlarmsProps {
  /**
   * Subscribed by email to the `keyroll-alerts` topic, which every alarm notifies. AWS sends a
   * confirmation email first; nothing is delivered until it is confirmed.
   * @default no topic: the alarms only change state (visible in the CloudWatch console)
   */
  readonly email?: string;
  /** The console's address, named in each alarm's description. @default "the key service's /console" */
  readonly consoleUrl?: string;
}

export class AlertAlarms extends Construct {
  /** The alarm on each alert type, `keyroll-alert-<type>`. */
  readonly alarms: Record<AlertType, CloudwatchMetricAlarm>;
  /** `keyroll-alerts`, present only when `email` is given. */
  readonly topic?: SnsTopic;

  constructor(scope: Construct, id: string, props: AlertAlarmsProps = {}) {
    super(scope, id);
    if (props.email !== undefined && !isAlertEmail(props.email)) {
      throw new Error(
        `AlertAlarms ${id}: \`email\` is ${JSON.stringify(props.email)}: give one email address (name@example.com; from the deploy, ${ALERT_EMAIL_ENV}), or leave it out for alarms without email.`,
      );
    }
    if (props.email) {
      // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key, and
      // the notifications carry only alarm names and counts, never key material.
      this.topic = new SnsTopic(this, 'topic', { name: ALERT_TOPIC_NAME });
      new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: props.email });
    }
    const actions = this.topic ? [this.topic.arn] : undefined;
    const consoleAt = props.consoleUrl ?? "the key service's /console";
    this.alarms = Object.fromEntries(
      ALERT_TYPES.map((type) => [
        type,
        new CloudwatchMetricAlarm(this, type, {
          alarmName: alertAlarmName(type),
          alarmDescription: `keyroll ${type} alert: ${MEANING[type]}. Which tenant and key: the key's page in the console (${consoleAt}), or GET /v1/tenants/{tenant}/alerts.`,
          namespace: ALERT_METRIC.namespace,
          metricName: ALERT_METRIC.metricName,
          // Powertools Metrics adds `service` itself; a datapoint matches only with both dimensions.
          dimensions: { service: ALERT_METRIC.serviceName, [ALERT_METRIC.typeDimension]: type },
          // No `unit`: an alarm with one ignores datapoints of any other unit, so a change of unit
          // in the service would silence it.
          statistic: 'Sum',
          period: ALERT_ALARM_PERIOD_SECONDS,
          evaluationPeriods: 1,
          threshold: 1,
          comparisonOperator: 'GreaterThanOrEqualToThreshold',
          // No alerts means no datapoints, which is the normal, healthy state.
          treatMissingData: 'notBreaching',
          // Only on ALARM: the alarm returns to OK a window after the last alert, which says only
          // that no new alert came, not that anything was fixed, so an OK email would be noise.
          alarmActions: actions,
        }),
      ]),
    ) as Record<AlertType, CloudwatchMetricAlarm>;
  }
}
