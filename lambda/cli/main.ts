/** `keyroll`: run the local emulator and the service, make a tenant's owner key, and manage keys. */
import { Command, InvalidArgumentError } from 'commander';
import { version } from '../../package.json';
import { CliError } from './cli-error';
import { bootstrapCommand } from './commands/bootstrap';
import { registerKeysCommands } from './commands/keys';
import { localAwsCommand } from './commands/local-aws';
import { serveCommand } from './commands/serve';
import { startCommand } from './commands/start';

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
  .showHelpAfterError();

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
  .action(startCommand);

registerKeysCommands(program);

program.parseAsync().catch((error: unknown) => {
  const message = error instanceof CliError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`keyroll: ${message}\n`);
  process.exitCode = 1;
});
