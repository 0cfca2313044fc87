/** `keyroll`: run the local emulator and the service, make a tenant's owner key, and manage keys. */
import { Command, InvalidArgumentError } from 'commander';
import { version } from '../../package.json';
import { CliError } from './cli-error';
import { bootstrapCommand } from './commands/bootstrap';
import { checkCommand } from './commands/check';
import { registerConsoleCommand } from './commands/console';
import { registerDevicesCommand } from './commands/devices';
import { registerKeysCommands } from './commands/keys';
import { registerRotateCommand } from './commands/rotate';
import { registerRotationCommands } from './commands/rotation';
import { localAwsCommand } from './commands/local-aws';
import { serveCommand } from './commands/serve';
import { startCommand } from './commands/start';
import { statusCommand } from './commands/status';
import { useLocalAwsDefaultsIfLocal } from '../deploy-env/local-endpoint';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('must be a whole number from 0 to 65535 (0 picks a free port).');
  }
  return port;
}

const program = new Command()
  .name('keyroll')
  .description('API keys per tenant on AWS: issued, verified and declared as code.')
  .version(version, '-V, --version', 'print the keyroll version')
  .showHelpAfterError()
  // One local-defaults rule for every command: a loopback AWS_ENDPOINT_URL gets a region and test credentials.
  .hook('preAction', () => void useLocalAwsDefaultsIfLocal());

program
  .command('local-aws')
  .description('Run the local AWS emulator (moto, extended by keyroll) in the foreground.')
  .option('--port <port>', 'port to listen on', parsePort, 4566)
  .action(localAwsCommand);

program
  .command('bootstrap')
  .description("Create a tenant's owner key (every permission, `*`) directly in the store, and print it once on stdout.")
  .requiredOption('--tenant <tenant>', 'tenant to create the key for')
  .option('--environment <environment>', 'production, staging or development (default: KEYROLL_ENVIRONMENT or production)')
  .option('--name <name>', 'name of the key', 'owner')
  .action(bootstrapCommand);

program
  .command('serve')
  .description('Serve the key service over HTTP.')
  .option('--port <port>', 'port to listen on (default: PORT, or 8787)', parsePort)
  .action(serveCommand);

program
  .command('start')
  .description('Start everything locally: the emulator, the example app deployed to it, the service, and an owner key for tenant acme.')
  .option('--no-deploy', 'skip deploying the example app')
  .option('--port <port>', 'port for the service (default: PORT, or 8787)', parsePort)
  .option('--verbose', "show Terraform's full output while deploying")
  .action(startCommand);

program
  .command('status')
  .description('Show the key service, local AWS, the deployed stacks and key counts by status.')
  .option('--url <url>', 'the key service (default: KEYROLL_URL, the running `keyroll start`, or http://127.0.0.1:<PORT or 8787>)')
  .option('--key-file <path>', 'file holding a management key, for key counts (default: KEYROLL_API_KEY)')
  .option('--tenant <tenant>', "tenant whose keys to count (default: the management key's own)")
  .option('--json', 'print JSON instead of text')
  .action(statusCommand);

program
  .command('check')
  .description('Check the keys file without deploying: every problem at its line, with the fix.')
  .option('--file <path>', 'the keys file (default: KEYROLL_KEYS_FILE, or stacks/keys.yaml)')
  .action(checkCommand);

registerKeysCommands(program);
registerDevicesCommand(program);
registerRotateCommand(program);
registerRotationCommands(program);
registerConsoleCommand(program);

program.parseAsync().catch((error: unknown) => {
  const message = error instanceof CliError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`keyroll: ${message}\n`);
  process.exitCode = 1;
});
