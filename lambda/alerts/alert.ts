/**
 * Alerts on unusual activity: what an alert is, the four kinds, and the metric each raised alert
 * is counted under. Shared by the service (which raises and lists them), the console (which shows
 * them) and the platform stack (which alarms on the metric), so the names are spelt once.
 */

export const ALERT_TYPES = [
  /** The share of 401, 403 and 429 answers over the window is above the threshold. */
  'error-rate',
  /** Requests over the window are far above the key's own trailing baseline. */
  'request-rate',
  /** The key was used from a source IP it has not been used from before. */
  'new-source',
  /** A credential the key no longer accepts (retired by a rotation or a regenerate) was presented. */
  'retired-credential',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export function isAlertType(value: string): value is AlertType {
  return (ALERT_TYPES as readonly string[]).includes(value);
}

const ALERT_ID = /^alr_[0-9A-Za-z]{24}$/;

export function isAlertId(value: string): boolean {
  return ALERT_ID.test(value);
}

/** What the alert saw; which fields are set depends on its type. */
export interface AlertFacts {
  /** Requests of the key in the window (error-rate, request-rate). */
  readonly requests?: number;
  /** 401, 403 and 429 answers in the window (error-rate). */
  readonly refusals?: number;
  /** refusals ÷ requests, 0..1 (error-rate). */
  readonly share?: number;
  /** The key's mean requests per window over the trailing baseline (request-rate). */
  readonly baseline?: number;
  /** requests ÷ baseline (request-rate). */
  readonly factor?: number;
  /** The new source (new-source), or where the retired credential came from last (retired-credential). */
  readonly sourceIp?: string;
  /** How often the retired credential was presented in the batch that raised the alert (retired-credential). */
  readonly uses?: number;
}

export interface Alert {
  /** `alr_` + 24 characters, the same for every instance that raises the same alert. */
  readonly id: string;
  /** When it was raised, ISO-8601. */
  readonly at: string;
  readonly tenant: string;
  readonly keyId: string;
  /** The key's name when the alert was raised. */
  readonly keyName: string;
  readonly type: AlertType;
  /** One sentence for people: what happened and what to look at. */
  readonly summary: string;
  /** The window the figures cover (error-rate, request-rate). */
  readonly window?: { readonly from: string; readonly to: string };
  readonly facts: AlertFacts;
}

/**
 * Each raised alert is one `UnusualActivity` count in CloudWatch (Powertools Metrics, EMF), with
 * the dimensions `service` and `alert` (its type); the platform stack alarms on each type.
 */
export const ALERT_METRIC = {
  namespace: 'keyroll',
  serviceName: 'keyroll-service',
  metricName: 'UnusualActivity',
  typeDimension: 'alert',
} as const;

/** Alerts are kept this long, then DynamoDB's TTL removes them. */
export const ALERT_RETENTION_DAYS = 90;
