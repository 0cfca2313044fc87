/**
 * `npm run deploy[:local]`, `npm run destroy:local`, `npm run diff`: deploys the keyroll app with
 * cdktf. `--local` targets the emulator (AWS_ENDPOINT_URL, default http://127.0.0.1:4566). Quiet by
 * default (a line per stack and resource type, then a summary); `--verbose` shows Terraform's output.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { readDeployedStack } from '../../lambda/deploy-env/deployed-stacks';
import { clearLocalState, PROJECT_ROOT, stateDirFromEnv } from '../../lambda/deploy-env/keyroll-dirs';
import { emulatorPort, isLocalEndpoint, localAwsAnswers, noLocalAwsMessage } from '../../lambda/deploy-env/local-endpoint';
import { KEYS_STACK, PLATFORM_STACK } from '../stack-names';
import { CdktfLines, stripAnsi } from './cdktf-output-lines';
import { DeployProgress } from './deploy-progress';
import { FailureReport } from './failure-report';
import { checkKeysFileBeforeDeploy } from './keys-file-gate';
import { DeployError } from './deploy-error';
import { type CdktfCommand, runCdktf } from './run-cdktf';

const DEFAULT_LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

interface Options {
  readonly local?: boolean;
  readonly verbose?: boolean;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`${line}\n`);

async function main(command: CdktfCommand, stacks: string[], options: Options) {
  const env: NodeJS.ProcessEnv = {};
  let targets = stacks.length ? stacks : [PLATFORM_STACK, KEYS_STACK];
  if (options.local) {
    const endpoint = process.env.AWS_ENDPOINT_URL || DEFAULT_LOCAL_ENDPOINT;
    if (!isLocalEndpoint(endpoint)) {
      throw new DeployError(
        'NOT_LOCAL',
        `--local deploys to the emulator on this machine, but AWS_ENDPOINT_URL is ${endpoint}: point it at a loopback address (e.g. ${DEFAULT_LOCAL_ENDPOINT}), or drop --local to deploy to AWS.`,
      );
    }
    env.AWS_ENDPOINT_URL = endpoint;
    if (!(await localAwsAnswers(endpoint))) {
      if (command === 'destroy') return nothingToDestroy(endpoint);
      throw new DeployError('LOCAL_AWS_UNREACHABLE', noLocalAwsMessage(endpoint));
    }
    if (command === 'destroy') {
      targets = withLocalState(targets, env);
      if (targets.length === 0) return;
    }
  } else if (process.env.AWS_ENDPOINT_URL && command !== 'synth') {
    throw new DeployError('ENDPOINT_SET', 'AWS_ENDPOINT_URL is set, so this would deploy to the emulator: unset it for AWS, or use the :local script.');
  }

  if (!checkKeysFile()) {
    process.exitCode = 1;
    return;
  }
  say(`keyroll: ${command} ${targets.join(', ')} → ${env.AWS_ENDPOINT_URL ?? 'AWS'}`);
  const withoutDependencies = command !== 'synth' && !targets.includes(PLATFORM_STACK);
  const report = options.verbose ? verboseOutput() : quietOutput(targets, command);
  const { exitCode } = await runCdktf({ command, stacks: targets, env, withoutDependencies, onOutput: report.chunk });
  report.end(exitCode);
  process.exitCode = exitCode;
}

/** Refuses a keys file with problems before cdktf starts (and says so once, with every problem). */
function checkKeysFile(): boolean {
  const { file, problems, warnings } = checkKeysFileBeforeDeploy();
  for (const warning of warnings) warn(warning);
  if (problems.length === 0) return true;
  for (const problem of problems) warn(problem);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  warn(`keyroll: ${file} has ${count}; nothing was deployed. Fix ${problems.length === 1 ? 'it' : 'them'} and rerun (\`npx keyroll check\` checks without deploying).`);
  return false;
}

/**
 * An emulator keeps nothing once it stops, so with none answering there is nothing left to
 * destroy; its state only describes what is gone, and would mislead the next deploy there.
 */
function nothingToDestroy(endpoint: string): void {
  if (process.env.KEYROLL_STATE_DIR) {
    say(`keyroll: nothing to destroy: no local AWS answers at ${endpoint}, and an emulator keeps nothing once it stops. KEYROLL_STATE_DIR (${process.env.KEYROLL_STATE_DIR}) still describes what it held: remove it before deploying there again.`);
    return;
  }
  const cleared = clearLocalState(emulatorPort(endpoint));
  say(`keyroll: nothing to destroy: no local AWS answers at ${endpoint}, and an emulator keeps nothing once it stops.${cleared ? ` Cleared its Terraform state (${cleared}).` : ''}`);
}

/** The stacks that have something to destroy on this emulator (Terraform would fail reading the others' missing state). */
function withLocalState(targets: string[], env: NodeJS.ProcessEnv): string[] {
  if (process.env.KEYROLL_STATE_BUCKET) return targets;
  const stateDir = stateDirFromEnv({ ...process.env, ...env });
  const deployed = targets.filter((stack) => readDeployedStack(stateDir, stack).resources > 0);
  const skipped = targets.filter((stack) => !deployed.includes(stack));
  if (skipped.length > 0) say(`keyroll: nothing to destroy in ${skipped.join(', ')}: no resources in its state (${path.relative(PROJECT_ROOT, stateDir)}).`);
  return deployed;
}

interface OutputReport {
  readonly chunk: (chunk: string) => void;
  readonly end: (exitCode: number) => void;
}

/** Terraform's full output; colour codes only for a terminal. */
function verboseOutput(): OutputReport {
  const plain = !process.stdout.isTTY;
  let pending = '';
  return {
    chunk: (chunk) => {
      if (!plain) return void process.stdout.write(chunk);
      // Whole lines only, so a colour code split across chunks is still removed.
      const text = pending + chunk;
      const end = text.lastIndexOf('\n') + 1;
      pending = text.slice(end);
      process.stdout.write(stripAnsi(text.slice(0, end)));
    },
    end: (exitCode) => {
      if (pending) process.stdout.write(`${plain ? stripAnsi(pending) : pending}\n`);
      if (exitCode !== 0) warn(`keyroll: cdktf failed (exit ${exitCode}); the output above says why.`);
    },
  };
}

/** A line per stack and resource type, a summary, and on failure only the cause. */
function quietOutput(stacks: readonly string[], command: CdktfCommand): OutputReport {
  const progress = new DeployProgress(say, command === 'diff');
  const failure = new FailureReport();
  const lines = new CdktfLines(stacks, (line) => {
    progress.line(line);
    failure.line(line);
  });
  return {
    chunk: (chunk) => lines.push(chunk),
    end: (exitCode) => {
      lines.end();
      const summary = command === 'deploy' || command === 'destroy' ? progress.summary(command) : undefined;
      const warnings = failure.warnings > 0 ? ` Terraform warned ${failure.warnings === 1 ? 'once' : `${failure.warnings} times`}; --verbose shows it.` : '';
      if (exitCode === 0) {
        if (command === 'synth') say(`keyroll: synthesized ${stacks.join(', ')}.${warnings}`);
        else if (summary) say(`${summary}${warnings}`);
        else if (warnings) say(warnings.trim());
        return;
      }
      const causes = failure.causes();
      warn(`keyroll: cdktf ${command} failed (exit ${exitCode}):`);
      for (const line of causes.length > 0 ? causes : failure.lastLines()) warn(`  ${line}`);
      const synthFailed = failure.synthFailed;
      const hint =
        synthFailed || command === 'synth' || command === 'diff'
          ? 'nothing was deployed; fix it and rerun'
          : `resources that completed are kept, and a rerun continues from there${summary ? ` (so far: ${summary.replace(/^\w+ /, '')})` : ''}`;
      warn(`keyroll: ${hint}. --verbose shows Terraform's full output.`);
    },
  };
}

new Command()
  .name('keyroll-deploy')
  .argument('<command>', 'deploy, destroy, diff or synth')
  .argument('[stacks...]', `stacks (default: ${PLATFORM_STACK} ${KEYS_STACK})`)
  .option('--local', 'target the local emulator')
  .option('--verbose', "show Terraform's full output instead of a line per resource type")
  .action((command: string, stacks: string[], options: Options) => {
    if (!['deploy', 'destroy', 'diff', 'synth'].includes(command)) throw new DeployError('UNKNOWN_COMMAND', `Unknown command ${command}: use deploy, destroy, diff or synth.`);
    return main(command as CdktfCommand, stacks, options);
  })
  .parseAsync()
  .catch((error: unknown) => {
    const message = error instanceof DeployError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`keyroll: ${message}\n`);
    process.exitCode = 1;
  });
