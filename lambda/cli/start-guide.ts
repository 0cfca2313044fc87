/**
 * What `keyroll start` prints once everything is up: where things are, and commands to try that
 * work exactly as printed, pasted into another terminal in this folder while it runs.
 */
import * as path from 'node:path';
import { DEFAULT_PORT } from './commands/serve';
import { PROJECT_ROOT } from '../deploy-env/keyroll-dirs';

export interface StartGuideOptions {
  readonly url: string;
  readonly port: number;
  readonly emulatorEndpoint: string;
  /** The service's environment; a second instance must run as the same one to accept the key. */
  readonly environment: string;
  readonly tenant: string;
  readonly deployed: boolean;
  /** A free port for a second instance of the service. */
  readonly otherPort: number;
  readonly stateDir: string;
  /** What the simulated devices `keyroll start` runs publish (see start-telemetry.ts); none without them. */
  readonly telemetry?: string;
}

/** The lines after the owner key. `$KEY` is the variable its `export KEY=…` line sets. */
export function startGuide(options: StartGuideOptions): string[] {
  const { url, tenant, emulatorEndpoint: endpoint } = options;
  const aws = `AWS_ENDPOINT_URL=${endpoint}`;
  // The IoT rules post to the service's port (stacks/deploy-target.ts reads PORT): a redeploy
  // from another terminal must name the same one, or it would re-point them.
  const deployEnv = options.port === DEFAULT_PORT ? aws : `PORT=${options.port} ${aws}`;
  // `keyroll keys` finds the service at KEYROLL_URL, else on PORT or 8787 (see service-url.ts).
  const keysEnv = options.port === DEFAULT_PORT ? '' : `KEYROLL_URL=${url} `;
  const environment = options.environment === 'production' ? '' : `KEYROLL_ENVIRONMENT=${options.environment} `;
  // [command, comment] pairs are printed with their comments lined up.
  const entries: (string | readonly [string, string])[] = [
    'Try:',
    `  curl -s ${url}/v1/whoami -H "x-api-key: $KEY"`,
    `  curl -s ${url}/v1/tenants/${tenant}/api-keys -H "x-api-key: $KEY" -H 'content-type: application/json' \\`,
    `    -d '{"name":"sensor-fleet","environment":"production","permissions":["telemetry:write"]}'`,
    `  curl -s ${url}/v1/tenants/${tenant}/api-keys -H "x-api-key: $KEY"`,
    [`${keysEnv}KEYROLL_API_KEY=$KEY npx keyroll keys list`, 'the same list, as a table'],
    ['npx keyroll status', 'the service, local AWS, deployed stacks'],
    '',
  ];
  if (options.telemetry) {
    entries.push(
      options.telemetry,
      `  curl -s "${url}/v1/telemetry?limit=3" -H "x-api-key: $KEY"`,
      // It finds this run's emulator through the run file, as `keyroll status` does.
      ['npx keyroll devices --duration 5', 'more devices, and deliveries per second by status'],
      '',
    );
  }
  if (options.deployed) {
    entries.push(
      `The deployed keys (stacks/keys.yaml) are in Secrets Manager as keyroll/${tenant}/<name>; the lists above show them.`,
      // Like `keyroll devices`, these find this run's emulator through the run file (rotation/ uses cli/aws-target.ts).
      [`npx keyroll rotate --tenant ${tenant} --all`, 'rotate its declared keys now: consumers move, then the old credentials drain'],
      ['npx keyroll rotation status', "each key's phase, its old credential's last use and grace"],
      '',
    );
  }
  entries.push(
    `Local AWS keeps Terraform state in ${path.relative(PROJECT_ROOT, options.stateDir)} while it runs. From another terminal in this folder:`,
    [`${deployEnv} npm run deploy:local`, options.deployed ? 'apply your edits to stacks/keys.yaml' : 'deploy the example app (stacks/keys.yaml)'],
    ...(options.deployed ? [[`${deployEnv} npm run destroy:local`, 'destroy the keys stack: revokes its keys'] as const] : []),
    [`${environment}${aws} npx keyroll serve --port ${options.otherPort}`, 'a second instance of the service'],
    'Ctrl-C stops local AWS too, and it keeps nothing: afterwards destroy:local has nothing to destroy, and deploy:local needs `npx keyroll local-aws`.',
  );
  const width = Math.max(...entries.map((entry) => (typeof entry === 'string' ? 0 : entry[0].length)));
  const lines = entries.map((entry) => (typeof entry === 'string' ? entry : `  ${entry[0].padEnd(width)}  # ${entry[1]}`));
  return lines;
}
