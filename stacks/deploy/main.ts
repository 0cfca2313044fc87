/**
 * `npm run deploy[:local]`, `npm run destroy:local`, `npm run diff`: deploys the keyroll app with
 * cdktf. `--local` targets the emulator (AWS_ENDPOINT_URL, default http://127.0.0.1:4566).
 */
import { Command } from 'commander';
import { isLocalEndpoint } from '../../lambda/store/local-tables';
import { KEYS_STACK, PLATFORM_STACK } from '../stack-names';
import { type CdktfCommand, runCdktf } from './run-cdktf';

const DEFAULT_LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

async function main(command: CdktfCommand, stacks: string[], options: { local?: boolean }) {
  const env: NodeJS.ProcessEnv = {};
  if (options.local) {
    const endpoint = process.env.AWS_ENDPOINT_URL || DEFAULT_LOCAL_ENDPOINT;
    if (!isLocalEndpoint(endpoint)) {
      throw new Error(`--local deploys to the emulator on this machine, but AWS_ENDPOINT_URL is ${endpoint}: point it at a loopback address (e.g. ${DEFAULT_LOCAL_ENDPOINT}), or drop --local to deploy to AWS.`);
    }
    if (!(await reachable(endpoint))) {
      throw new Error(`No local AWS at ${endpoint}. Start it with \`npx keyroll local-aws\` (or set AWS_ENDPOINT_URL), then rerun.`);
    }
    env.AWS_ENDPOINT_URL = endpoint;
  } else if (process.env.AWS_ENDPOINT_URL && command !== 'synth') {
    throw new Error('AWS_ENDPOINT_URL is set, so this would deploy to the emulator: unset it for AWS, or use the :local script.');
  }
  const targets = stacks.length ? stacks : [PLATFORM_STACK, KEYS_STACK];
  process.stderr.write(`keyroll: ${command} ${targets.join(', ')} → ${env.AWS_ENDPOINT_URL ?? 'AWS'}\n`);
  const withoutDependencies = command !== 'synth' && !targets.includes(PLATFORM_STACK);
  const { exitCode } = await runCdktf({ command, stacks: targets, env, withoutDependencies });
  if (exitCode !== 0) {
    const hint = command === 'synth' ? 'the lines above name the declaration and the fix' : 'the lines above say which resource and why. Fix it and rerun: completed resources are kept';
    process.stderr.write(`keyroll: cdktf ${command} failed (exit ${exitCode}); ${hint}.\n`);
  }
  process.exitCode = exitCode;
}

async function reachable(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

new Command()
  .name('keyroll-deploy')
  .argument('<command>', 'deploy, destroy, diff or synth')
  .argument('[stacks...]', `stacks (default: ${PLATFORM_STACK} ${KEYS_STACK})`)
  .option('--local', 'target the local emulator')
  .action((command: string, stacks: string[], options: { local?: boolean }) => {
    if (!['deploy', 'destroy', 'diff', 'synth'].includes(command)) throw new Error(`Unknown command ${command}: use deploy, destroy, diff or synth.`);
    return main(command as CdktfCommand, stacks, options);
  })
  .parseAsync()
  .catch((error: unknown) => {
    process.stderr.write(`keyroll: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
