/**
 * `keyroll rotation status [--tenant T] [--file] [--json]` and `keyroll rotation sweep [--json]`:
 * where each declared key's rotation stands, and the sweep run now, both answered by the
 * `keyroll-rotation` Lambda (invoked with `{"keyroll":"status","tenant":T}` and `{"keyroll":"sweep"}`),
 * which holds the grants and the rules. Text on stdout, or JSON with --json; notes on stderr.
 */
import type { Command } from 'commander';
import { tenantSchema } from '../../keys/key-input';
import { resolveAwsTarget } from '../aws-target';
import { CliError } from '../cli-error';
import { keysFileTenants } from '../rotation/keys-file-tenant';
import { RotationFunction } from '../rotation/rotation-function';
import { statusText, sweepText } from '../rotation/rotation-text';

export interface RotationStatusOptions {
  /** @default the keys file's only tenant */
  readonly tenant?: string;
  /** @default KEYROLL_KEYS_FILE, or stacks/keys.yaml */
  readonly file?: string;
  readonly json?: boolean;
}

export interface RotationSweepOptions {
  readonly json?: boolean;
}

const out = (text: string) => process.stdout.write(text);
const err = (line: string) => process.stderr.write(`${line}\n`);

export function registerRotationCommands(program: Command): void {
  const rotation = program.command('rotation').description('Watch and tend the rotations of declared keys (through the keyroll-rotation Lambda).');

  rotation
    .command('status')
    .description('Per declared key: the phase (idle, rotating, draining, failed), last rotated, next due, the old credential in grace and its last use, and why a rotation failed.')
    .option('--tenant <tenant>', "tenant whose keys to show (default: every tenant the keys file declares keys for)")
    .option('--file <path>', 'the keys file that names the tenant (default: KEYROLL_KEYS_FILE, or stacks/keys.yaml)')
    .option('--json', 'print the status of each key as a JSON array')
    .action(rotationStatusCommand);

  rotation
    .command('sweep')
    .description('Run the sweep now (its schedule runs it every few minutes): retire drained old credentials, finish missed cutovers, repair stuck rotations.')
    .option('--json', "print the sweep's report as JSON")
    .action(rotationSweepCommand);
}

export async function rotationStatusCommand(options: RotationStatusOptions): Promise<void> {
  // Without --tenant: every tenant the keys file declares keys for.
  const tenants = options.tenant !== undefined ? [options.tenant] : keysFileTenants(options.file);
  for (const tenant of tenants) {
    if (!tenantSchema.safeParse(tenant).success) {
      throw new CliError('INVALID_TENANT', `--tenant ${JSON.stringify(tenant)} is not a tenant: it must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit.`);
    }
  }
  const target = await resolveAwsTarget();
  const rotation = new RotationFunction(target);
  try {
    const all = [];
    for (const tenant of tenants) {
      const statuses = await rotation.status(tenant);
      all.push(...statuses);
      if (options.json) continue;
      if (statuses.length === 0) {
        err(`Tenant ${tenant} has no declared keys on ${target.description}. Declare them in keys.yaml and deploy (\`${target.deployCommand}\`).`);
        continue;
      }
      err(`Tenant ${tenant} on ${target.description}:`);
      out(statusText(statuses));
    }
    if (options.json) out(`${JSON.stringify(all, null, 2)}\n`);
  } finally {
    rotation.destroy();
  }
}

export async function rotationSweepCommand(options: RotationSweepOptions): Promise<void> {
  const target = await resolveAwsTarget();
  const rotation = new RotationFunction(target);
  try {
    err(`Sweeping on ${target.description} …`);
    const report = await rotation.sweep();
    out(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${sweepText(report).join('\n')}\n`);
    // A key the sweep could not look at is a failure to report; busy and waiting are answers.
    if (report.outcomes.some((outcome) => outcome.action === 'error')) process.exitCode = 1;
  } finally {
    rotation.destroy();
  }
}
