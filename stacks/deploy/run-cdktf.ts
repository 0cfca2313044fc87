/**
 * Runs the cdktf CLI the way keyroll needs it: our Terraform CLI configuration, no telemetry or
 * version checks, `--skip-provider-lock` (locking needs the registry) and, for the emulator, its
 * endpoint, dummy credentials and its own output folder. Output goes to `onOutput` (by default
 * this process's stdout/stderr) as it comes, so a deploy can show its progress.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { localCdktfOutDir, PROJECT_ROOT } from '../../lambda/deploy-env/keyroll-dirs';
import { emulatorPort, useLocalAwsDefaultsIfLocal } from '../../lambda/deploy-env/local-endpoint';
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
  /**
   * cdktf's output folder. @default cdktf.out for AWS, `.keyroll/cdktf.out/local/<port>` for the
   * emulator (see lambda/deploy-env/keyroll-dirs.ts)
   */
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
  const local = useLocalAwsDefaultsIfLocal(env);
  const outputDir = options.outputDir ?? (local ? localCdktfOutDir(emulatorPort(env.AWS_ENDPOINT_URL!)) : undefined);
  if (local && outputDir) forgetBackends(outputDir);
  // cdktf creates the output folder itself, but not its parents.
  if (outputDir) fs.mkdirSync(path.dirname(path.resolve(PROJECT_ROOT, outputDir)), { recursive: true });
  const stacks = options.stacks?.length ? [...options.stacks] : ['*'];
  const args = [options.command, ...(options.command === 'synth' ? [] : stacks)];
  if (outputDir) args.push('--output', outputDir);
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

/**
 * Local runs only: removes Terraform's record of each stack's backend (`.terraform/terraform.tfstate`
 * in the stack's folder), so `terraform init` configures the backend as new. The local state folder
 * legitimately changes (another emulator port, KEYROLL_STATE_DIR), and Terraform would otherwise
 * stop with "Backend configuration changed" and ask to migrate state that describes an emulator
 * long gone. Never for AWS: there a changed backend is Terraform's migration decision to ask about.
 */
export function forgetBackends(outputDir: string): void {
  const stacksDir = path.join(outputDir, 'stacks');
  if (!fs.existsSync(stacksDir)) return;
  for (const stack of fs.readdirSync(stacksDir)) {
    fs.rmSync(path.join(stacksDir, stack, '.terraform', 'terraform.tfstate'), { force: true });
  }
}
