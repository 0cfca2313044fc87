/**
 * The deploy's alert settings: KEYROLL_ALERT_EMAIL (who the platform stack's alarms notify) and the
 * KEYROLL_ALERT_* thresholds set for the deployed service, checked at synth so a bad value fails
 * the deploy instead of the service Lambda at its first request.
 */
import { ALERT_THRESHOLD_ENV, alertThresholdsFromEnv } from '../alerts/alert-thresholds';
import { DeployEnvError } from './service-environment';

export const ALERT_EMAIL_ENV = 'KEYROLL_ALERT_EMAIL';

/**
 * One plain address, as SNS's email protocol takes it: no display name (`Ops <ops@…>`), no list,
 * no spaces, a dot in the domain. A mistyped address would otherwise only show as a subscription
 * that never confirms.
 */
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/;

export function isAlertEmail(value: string): boolean {
  return EMAIL.test(value);
}

/**
 * The address KEYROLL_ALERT_EMAIL names, undefined when unset or empty (alarms without a topic).
 * @throws DeployEnvError INVALID_SETTING for anything but one plain address
 */
export function alertEmailFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[ALERT_EMAIL_ENV]?.trim();
  if (!value) return undefined;
  if (isAlertEmail(value)) return value;
  throw new DeployEnvError(
    'INVALID_SETTING',
    `${ALERT_EMAIL_ENV} is ${JSON.stringify(env[ALERT_EMAIL_ENV])}: give one email address (name@example.com, no display name or list; for several people use a list's address), or unset it for alarms without email.`,
  );
}

/**
 * The KEYROLL_ALERT_* thresholds set (non-empty) in `env`, as the service Lambda's environment
 * should carry them; unset ones are left out so the service keeps its documented defaults.
 * @throws DeployEnvError INVALID_SETTING with alertThresholdsFromEnv's message (it names the variable and the fix)
 */
export function alertThresholdEnvFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  try {
    alertThresholdsFromEnv(env);
  } catch (error) {
    throw new DeployEnvError('INVALID_SETTING', (error as Error).message);
  }
  const set: Record<string, string> = {};
  for (const name of ALERT_THRESHOLD_ENV) {
    const value = env[name]?.trim();
    if (value) set[name] = value;
  }
  return set;
}
