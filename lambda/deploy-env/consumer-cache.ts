/**
 * KEYROLL_IOT_SECRET_CACHE_SECONDS: how long a consumer may keep serving a credential from its
 * cache after a cutover (IoT's get_secret caches for up to 15 minutes: AWS's default, 900). One
 * number, read by the deploy (the rotation Lambda's horizon, the check on graceMinutes) and by the
 * emulator (its simulated get_secret cache), so local runs and tests shorten all three together.
 */
import { DeployEnvError } from './service-environment';

export const DEFAULT_CONSUMER_CACHE_SECONDS = 900;

export function consumerCacheSecondsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KEYROLL_IOT_SECRET_CACHE_SECONDS?.trim();
  if (!raw) return DEFAULT_CONSUMER_CACHE_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new DeployEnvError(
      'INVALID_SETTING',
      `KEYROLL_IOT_SECRET_CACHE_SECONDS is ${JSON.stringify(raw)}: give a number of seconds, 0 or more, or unset it for AWS's ${DEFAULT_CONSUMER_CACHE_SECONDS}.`,
    );
  }
  return seconds;
}
