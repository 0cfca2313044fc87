/**
 * Runs the cdktf CLI the way keyroll needs it: our Terraform CLI configuration, no telemetry or
 * version checks, `--skip-provider-lock` (locking needs the registry) and, for the emulator, its
 * endpoint and dummy credentials. Output streams through, so a deploy shows its progress.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { useLocalAwsDefaults } from '../../lambda/cli/local-setup';
import { PROJECT_ROOT } from '../deploy-target';
import { writeTerraformCliConfig } from './terraform-cli-config';

export type CdktfCommand = 'deploy' | 'destroy' | 'diff' | 'synth';

export interface RunCdktfOptions {
  readonly command: CdktfCommand;
  /** @default all stacks */
  readonly stacks?: readonly string[];
  /** Extra environment for the app and Terraform. @default {} */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Run the named stacks without the stacks they read from (e.g. only keyroll-keys, with the
   * platform already deployed). Without it cdktf refuses. @default false
   */
  readonly withoutDependencies?: boolean;
  /** cdktf's output folder. @default cdktf.out */
  readonly outputDir?: string;
  /** Called with each chunk of output; defaults to this process's stdout/stderr. */
  readonly onOutput?: (chunk: string) => void;
}

export interface CdktfRun {
  readonly exitCode: number;
  readonly output: string;
}

export async function runCdktf(options: RunCdktfOptions): Promise<CdktfRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  const { file } = writeTerraformCliConfig(path.join(PROJECT_ROOT, '.keyroll'), env);
  Object.assign(env, {
    TF_CLI_CONFIG_FILE: file,
    CHECKPOINT_DISABLE: '1',
    DISABLE_VERSION_CHECK: 'true',
    TF_IN_AUTOMATION: '1',
    // Plain line output instead of an interactive spinner: readable in pipelines and logs.
    CI: env.CI ?? '1',
  });
  if (env.AWS_ENDPOINT_URL) useLocalAwsDefaults(env.AWS_ENDPOINT_URL, env);
  const stacks = options.stacks?.length ? [...options.stacks] : ['*'];
  const args = [options.command, ...(options.command === 'synth' ? [] : stacks)];
  if (options.outputDir) args.push('--output', options.outputDir);
  if (options.command === 'deploy' || options.command === 'destroy') args.push('--auto-approve');
  if (options.withoutDependencies) args.push('--ignore-missing-stack-dependencies');
  if (options.command !== 'synth') args.push('--skip-provider-lock');
  const child = spawn(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdktf'), args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const forward = (chunk: Buffer, stream: NodeJS.WriteStream) => {
    const text = chunk.toString('utf8');
    output += text;
    if (options.onOutput) options.onOutput(text);
    else stream.write(text);
  };
  child.stdout.on('data', (chunk: Buffer) => forward(chunk, process.stdout));
  child.stderr.on('data', (chunk: Buffer) => forward(chunk, process.stderr));
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  return { exitCode, output };
}
