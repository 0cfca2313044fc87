/**
 * When an alert fires: the thresholds, their documented defaults, and the environment variables
 * that change them (KEYROLL_ALERT_*), read once with errors that name the variable and the fix.
 */
import { z } from 'zod';

export interface AlertThresholds {
  /** The span the error-rate and request-rate alerts look at, in minutes. @default 5 */
  readonly windowMinutes: number;
  /** The share of 401/403/429 answers in the window that raises an error-rate alert. @default 0.25 */
  readonly errorShare: number;
  /** Fewer requests than this in the window never raise an error-rate alert. @default 20 */
  readonly errorMinRequests: number;
  /** How many times the trailing baseline the window's requests must reach for a request-rate alert. @default 5 */
  readonly rateFactor: number;
  /** Fewer requests than this in the window never raise a request-rate alert. @default 100 */
  readonly rateMinRequests: number;
  /**
   * The trailing span before the window whose mean (per window) is the key's baseline, in minutes.
   * A key with less history than half of it has no baseline yet. @default 60
   */
  readonly baselineMinutes: number;
  /**
   * Error-rate, request-rate and retired-credential alerts: one per key and type per slot of this
   * many minutes (slots are fixed, so two can come minutes apart across a slot's end). New-source
   * alerts: one per key and source. @default 30
   */
  readonly cooldownMinutes: number;
  /** Whether a key's first use from a new source IP raises an alert. @default true */
  readonly newSources: boolean;
  /** How often one instance evaluates a key with traffic, in seconds. @default 60 */
  readonly evaluationSeconds: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  windowMinutes: 5,
  errorShare: 0.25,
  errorMinRequests: 20,
  rateFactor: 5,
  rateMinRequests: 100,
  baselineMinutes: 60,
  cooldownMinutes: 30,
  newSources: true,
  evaluationSeconds: 60,
};

const whole = (min: number, max: number) => z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

/** Each threshold's variable, its schema and what it means (for the error message). */
const SETTINGS = {
  windowMinutes: { env: 'KEYROLL_ALERT_WINDOW_MINUTES', schema: whole(1, 60) },
  errorShare: { env: 'KEYROLL_ALERT_ERROR_SHARE', schema: z.coerce.number({ error: 'must be a number' }).gt(0, 'must be above 0').max(1, 'must be at most 1 (a share: 0.25 is 25 %)') },
  errorMinRequests: { env: 'KEYROLL_ALERT_ERROR_MIN_REQUESTS', schema: whole(1, 1_000_000) },
  rateFactor: { env: 'KEYROLL_ALERT_RATE_FACTOR', schema: z.coerce.number({ error: 'must be a number' }).gt(1, 'must be above 1 (a multiple of the baseline)').max(10_000, 'must be at most 10000') },
  rateMinRequests: { env: 'KEYROLL_ALERT_RATE_MIN_REQUESTS', schema: whole(1, 100_000_000) },
  baselineMinutes: { env: 'KEYROLL_ALERT_BASELINE_MINUTES', schema: whole(10, 2_880) },
  cooldownMinutes: { env: 'KEYROLL_ALERT_COOLDOWN_MINUTES', schema: whole(1, 10_080) },
  newSources: { env: 'KEYROLL_ALERT_NEW_SOURCES', schema: z.enum(['true', 'false'], { error: 'must be `true` or `false`' }).transform((value) => value === 'true') },
  evaluationSeconds: { env: 'KEYROLL_ALERT_EVALUATION_SECONDS', schema: whole(5, 3_600) },
} satisfies Record<keyof AlertThresholds, { env: string; schema: z.ZodType }>;

/** The variables the service reads, for the platform stack to pass on to the service function. */
export const ALERT_THRESHOLD_ENV: readonly string[] = Object.values(SETTINGS).map((setting) => setting.env);

/** Thresholds from KEYROLL_ALERT_*; unset or empty variables keep their defaults. Throws on a bad value. */
export function alertThresholdsFromEnv(env: NodeJS.ProcessEnv = process.env): AlertThresholds {
  const thresholds: Record<string, unknown> = { ...DEFAULT_ALERT_THRESHOLDS };
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const raw = env[setting.env];
    if (raw === undefined || raw.trim() === '') continue;
    const parsed = setting.schema.safeParse(raw.trim());
    if (!parsed.success) {
      const problem = parsed.error.issues[0]?.message ?? 'is not valid';
      throw new Error(
        `${setting.env} is ${JSON.stringify(raw)}: it ${problem}. Fix it, or unset it for the default (${String(DEFAULT_ALERT_THRESHOLDS[name as keyof AlertThresholds])}).`,
      );
    }
    thresholds[name] = parsed.data;
  }
  return thresholds as unknown as AlertThresholds;
}
