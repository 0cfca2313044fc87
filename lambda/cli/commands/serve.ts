/** `keyroll serve`: the key service on PORT (default 8787) until Ctrl-C. */
import { startServer } from '../../serve/node-server';
import { ensureTablesIfLocal } from '../local-setup';
import { untilInterrupted } from '../until-interrupted';

export const DEFAULT_PORT = 8787;

export function portFromEnv(): number {
  const raw = process.env.PORT;
  if (!raw) return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT is "${raw}"; set it to a whole number from 0 to 65535, or unset it for ${DEFAULT_PORT}.`);
  }
  return port;
}

export async function serveCommand(): Promise<void> {
  await ensureTablesIfLocal((line) => process.stderr.write(`${line}\n`));
  const server = await startServer(portFromEnv(), {}, process.env.HOST ?? '127.0.0.1');
  process.stderr.write(`keyroll is serving at ${server.url} (environment ${process.env.KEYROLL_ENVIRONMENT || 'production'})\n`);
  await untilInterrupted();
  await server.stop();
}
