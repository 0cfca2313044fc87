/** Where CLI commands find the key service: KEYROLL_URL, else the local `keyroll serve` address. */
import { portFromEnv } from './commands/serve';

export function serviceUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.KEYROLL_URL || `http://127.0.0.1:${portFromEnv()}`;
}
