/** `keyroll serve`: the key service on PORT (default 8787) until Ctrl-C. */
import { startServer } from '../../serve/node-server';
import { CliError } from '../cli-error';
import { serviceEnvironmentFromEnv } from '../../deploy-env/service-environment';
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

export function portTaken(port: number): CliError {
  return new CliError(
    'PORT_IN_USE',
    `Port ${port} is already in use (is keyroll already running? \`npx keyroll status\` tells). Serve on another port with --port <n> or PORT=<n>; 0 picks a free one.`,
  );
}

export async function serveCommand(options: { port?: number } = {}): Promise<void> {
  await ensureTablesIfLocal((line) => process.stderr.write(`${line}\n`));
  const port = options.port ?? portFromEnv();
  // The service's own telemetry URL (its IoT topic rule destination) defaults from PORT.
  if (options.port !== undefined) process.env.PORT = String(port);
  const server = await startServer(port, {}, process.env.HOST ?? '127.0.0.1').catch((error: unknown) => {
    throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? portTaken(port) : error;
  });
  process.stderr.write(`keyroll is serving at ${server.url} (environment ${serviceEnvironmentFromEnv()})\n`);
  // A service started after the deploy missed IoT's confirmation of its destination: ask again.
  void server.service.deps.destinations.requestFreshConfirmations();
  await untilInterrupted();
  await server.stop();
}
