import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { ALERT_METRIC, ALERT_TYPES } from '../../lambda/alerts/alert';
import { PowertoolsAlertMetrics } from '../../lambda/alerts/alert-metrics';
import { ALERT_THRESHOLD_ENV } from '../../lambda/alerts/alert-thresholds';
import { deployTargetFromEnv } from '../deploy-target';
import { TEST_TARGET, testApp } from '../test-support';
import { AlertAlarms } from './alert-alarms';

const ROOT = path.resolve(__dirname, '..', '..');

/** The platform stack synthesized from `env` the way stacks/main.ts does it. */
function platformFrom(env: NodeJS.ProcessEnv) {
  return JSON.parse(Testing.synth(testApp([], { ...deployTargetFromEnv(env), region: TEST_TARGET.region }).platform));
}

const resources = (json: any, type: string): Record<string, any>[] => Object.values(json.resource[type] ?? {});

describe('AlertAlarms in the platform stack', () => {
  describe('happy path', () => {
    it('alarms on each alert type: the first UnusualActivity count of a 5-minute window, with both dimensions the service emits', () => {
      const alarms = resources(platformFrom({}), 'aws_cloudwatch_metric_alarm');
      expect(alarms.map((alarm) => alarm.alarm_name).sort()).toEqual(ALERT_TYPES.map((type) => `keyroll-alert-${type}`).sort());
      for (const type of ALERT_TYPES) {
        const alarm = alarms.find((a) => a.alarm_name === `keyroll-alert-${type}`)!;
        expect(alarm).toMatchObject({
          namespace: 'keyroll',
          metric_name: 'UnusualActivity',
          dimensions: { service: 'keyroll-service', alert: type },
          statistic: 'Sum',
          period: 300,
          evaluation_periods: 1,
          threshold: 1,
          comparison_operator: 'GreaterThanOrEqualToThreshold',
          treat_missing_data: 'notBreaching',
        });
        // The names the service emits under (lambda/alerts/alert.ts), not a second spelling.
        expect(alarm).toMatchObject({ namespace: ALERT_METRIC.namespace, metric_name: ALERT_METRIC.metricName, dimensions: { [ALERT_METRIC.typeDimension]: type } });
        expect(alarm.unit).toBeUndefined();
        expect(alarm.alarm_description).toContain(`keyroll ${type} alert: `);
        expect(alarm.alarm_description).toContain('GET /v1/tenants/{tenant}/alerts');
        expect(alarm.alarm_description).toMatch(/the key's page in the console \(\$\{aws_lambda_function_url\.service-url\.function_url\}console\)/);
        expect(alarm.alarm_description.length).toBeLessThanOrEqual(1024); // CloudWatch's limit
      }
    });

    it("watches exactly the datapoint the service emits for an alert, under the service Lambda's own POWERTOOLS_SERVICE_NAME", () => {
      const json = platformFrom({});
      const lambdaEnv = resources(json, 'aws_lambda_function').find((fn) => fn.function_name === 'keyroll-service')!.environment.variables;
      const lines: string[] = [];
      const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (lines.push(String(chunk)), true));
      const before = process.env.POWERTOOLS_SERVICE_NAME;
      process.env.POWERTOOLS_SERVICE_NAME = lambdaEnv.POWERTOOLS_SERVICE_NAME;
      try {
        for (const type of ALERT_TYPES) new PowertoolsAlertMetrics().raised({ type } as Parameters<PowertoolsAlertMetrics['raised']>[0]);
      } finally {
        write.mockRestore();
        if (before === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
        else process.env.POWERTOOLS_SERVICE_NAME = before;
      }
      const emitted = lines.map((line) => JSON.parse(line));
      expect(emitted).toHaveLength(ALERT_TYPES.length);
      const alarms = resources(json, 'aws_cloudwatch_metric_alarm');
      for (const datapoint of emitted) {
        const [directive] = datapoint._aws.CloudWatchMetrics;
        const alarm = alarms.find((a) => a.dimensions.alert === datapoint.alert)!;
        // CloudWatch matches a metric by namespace, name and the exact set of dimensions.
        expect(directive.Namespace).toBe(alarm.namespace);
        expect(directive.Metrics).toEqual([{ Name: alarm.metric_name, Unit: 'Count' }]);
        expect(directive.Dimensions).toHaveLength(1);
        expect(Object.fromEntries(directive.Dimensions[0].map((name: string) => [name, datapoint[name]]))).toEqual(alarm.dimensions);
        expect(datapoint[alarm.metric_name]).toBe(1);
      }
    });

    it('has no topic, subscription or alarm actions without KEYROLL_ALERT_EMAIL', () => {
      for (const env of [{}, { KEYROLL_ALERT_EMAIL: '' }, { KEYROLL_ALERT_EMAIL: '  ' }]) {
        const json = platformFrom(env);
        expect(json.resource.aws_sns_topic).toBeUndefined();
        expect(json.resource.aws_sns_topic_subscription).toBeUndefined();
        for (const alarm of resources(json, 'aws_cloudwatch_metric_alarm')) {
          expect(alarm.alarm_actions).toBeUndefined();
          expect(alarm.ok_actions).toBeUndefined();
        }
      }
    });

    it('subscribes KEYROLL_ALERT_EMAIL to keyroll-alerts, which every alarm notifies on ALARM only', () => {
      const json = platformFrom({ KEYROLL_ALERT_EMAIL: ' oncall@example.com ' });
      const topics = Object.entries(json.resource.aws_sns_topic as Record<string, any>);
      expect(topics.map(([, topic]) => topic.name)).toEqual(['keyroll-alerts']);
      const topicArn = `\${aws_sns_topic.${topics[0][0]}.arn}`;
      expect(resources(json, 'aws_sns_topic_subscription')).toEqual([{ topic_arn: topicArn, protocol: 'email', endpoint: 'oncall@example.com' }]);
      const alarms = resources(json, 'aws_cloudwatch_metric_alarm');
      expect(alarms).toHaveLength(ALERT_TYPES.length);
      for (const alarm of alarms) {
        expect(alarm.alarm_actions).toEqual([topicArn]);
        expect(alarm.ok_actions).toBeUndefined();
      }
    });

    it('passes the KEYROLL_ALERT_* thresholds set in the deploy environment to the service Lambda, and only those', () => {
      const serviceEnv = (env: NodeJS.ProcessEnv) =>
        resources(platformFrom(env), 'aws_lambda_function').find((fn) => fn.function_name === 'keyroll-service')!.environment.variables as Record<string, string>;
      const alertVariables = (variables: Record<string, string>) => Object.keys(variables).filter((name) => name.startsWith('KEYROLL_ALERT_'));
      expect(alertVariables(serviceEnv({}))).toEqual([]);
      const set = serviceEnv({ KEYROLL_ALERT_ERROR_SHARE: ' 0.5 ', KEYROLL_ALERT_NEW_SOURCES: 'false', KEYROLL_ALERT_WINDOW_MINUTES: '', KEYROLL_ALERT_EMAIL: 'oncall@example.com' });
      expect(set).toMatchObject({ KEYROLL_ALERT_ERROR_SHARE: '0.5', KEYROLL_ALERT_NEW_SOURCES: 'false' });
      // The address is the deploy's business, not the service's; an empty variable keeps the default.
      expect(alertVariables(set).sort()).toEqual(['KEYROLL_ALERT_ERROR_SHARE', 'KEYROLL_ALERT_NEW_SOURCES']);
      for (const name of ALERT_THRESHOLD_ENV) expect(name).toMatch(/^KEYROLL_ALERT_/);
      // The other functions decide nothing about alerts.
      for (const fn of resources(platformFrom({ KEYROLL_ALERT_ERROR_SHARE: '0.5' }), 'aws_lambda_function').filter((f) => f.function_name !== 'keyroll-service')) {
        expect(alertVariables(fn.environment.variables)).toEqual([]);
      }
    });
  });

  describe('errors', () => {
    it.each(['oncall', 'oncall@example', 'Ops <ops@example.com>', 'a@example.com,b@example.com', 'a@example.com b@example.com', 'on call@example.com'])(
      'fails synth on KEYROLL_ALERT_EMAIL=%p, naming the variable and the fix',
      (address) => {
        expect(() => deployTargetFromEnv({ KEYROLL_ALERT_EMAIL: address })).toThrow(
          expect.objectContaining({
            code: 'INVALID_SETTING',
            message: `KEYROLL_ALERT_EMAIL is ${JSON.stringify(address)}: give one email address (name@example.com, no display name or list; for several people use a list's address), or unset it for alarms without email.`,
          }),
        );
      },
    );

    it('fails synth on a bad alert threshold with the message the service would give', () => {
      expect(() => deployTargetFromEnv({ KEYROLL_ALERT_ERROR_SHARE: '25%' })).toThrow(
        expect.objectContaining({ code: 'INVALID_SETTING', message: expect.stringMatching(/^KEYROLL_ALERT_ERROR_SHARE is "25%": it must be a number\. Fix it, or unset it for the default \(0\.25\)\.$/) }),
      );
      expect(() => deployTargetFromEnv({ KEYROLL_ALERT_NEW_SOURCES: 'yes' })).toThrow(/^KEYROLL_ALERT_NEW_SOURCES is "yes": it must be `true` or `false`\. Fix it/);
    });

    it('fails synth for a hand-built target too: a bad threshold or address never reaches the Lambda or SNS', () => {
      expect(() => testApp([], { ...TEST_TARGET, alertThresholdEnv: { KEYROLL_ALERT_WINDOW_MINUTES: '0' } })).toThrow(/^KEYROLL_ALERT_WINDOW_MINUTES is "0": it must be at least 1\./);
      expect(() => testApp([], { ...TEST_TARGET, alertEmail: 'oncall' })).toThrow(
        'AlertAlarms alerts: `email` is "oncall": give one email address (name@example.com; from the deploy, KEYROLL_ALERT_EMAIL), or leave it out for alarms without email.',
      );
    });

    // The app cdktf runs (cdktf.json): the error must stop it before anything is synthesized.
    it.each([
      [{ KEYROLL_ALERT_EMAIL: 'oncall@' }, 'KEYROLL_ALERT_EMAIL is "oncall@": give one email address'],
      [{ KEYROLL_ALERT_RATE_FACTOR: '1' }, 'KEYROLL_ALERT_RATE_FACTOR is "1": it must be above 1'],
    ])('stops `tsx stacks/main.ts` with %p, saying what to fix', (env, message) => {
      const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'stacks', 'main.ts')], {
        cwd: ROOT,
        env: { ...process.env, ...env, CDKTF_OUTDIR: fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-alert-synth-')) },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain(message);
    });
  });

  it('is a construct other stacks can use on their own, with its resources exposed', () => {
    const { platform } = testApp([]);
    const alerts = new AlertAlarms(platform, 'more-alerts', { email: 'team@example.org' });
    expect(Object.keys(alerts.alarms).sort()).toEqual([...ALERT_TYPES].sort());
    expect(alerts.topic).toBeDefined();
    expect(new AlertAlarms(platform, 'quiet-alerts').topic).toBeUndefined();
  });
});
