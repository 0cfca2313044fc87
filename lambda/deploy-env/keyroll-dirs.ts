/**
 * Where keyroll keeps its files in a checkout (all under `.keyroll/`, git-ignored): Terraform state,
 * the local deploys' cdktf output, and the run file of `keyroll start`. One place, so the deploy
 * runner, the stacks, `keyroll start`, `keyroll local-aws` and `keyroll status` agree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { emulatorPort, isLocalEndpoint } from './local-endpoint';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const KEYROLL_DIR = path.join(PROJECT_ROOT, '.keyroll');

/** Terraform state of AWS deploys without KEYROLL_STATE_BUCKET. */
export const AWS_STATE_DIR = path.join(KEYROLL_DIR, 'state');

/** The emulators' state: one folder per emulator port. */
export const LOCAL_STATE_ROOT = path.join(AWS_STATE_DIR, 'local');

/** AWS deploys keep cdktf's default output folder (cdktf.json); local ones use their own, below. */
export const LOCAL_CDKTF_OUT_ROOT = path.join(KEYROLL_DIR, 'cdktf.out', 'local');

/**
 * The Terraform state of the emulator on `port`. An emulator starts empty, so whoever starts one
 * there (`keyroll start`, `keyroll local-aws`) clears this folder first: state from an earlier
 * emulator would describe resources that no longer exist.
 */
export function localStateDir(port: number): string {
  return path.join(LOCAL_STATE_ROOT, String(port));
}

/** cdktf's output for deploys to the emulator on `port`: kept apart so two emulators never share a synth. */
export function localCdktfOutDir(port: number): string {
  return path.join(LOCAL_CDKTF_OUT_ROOT, String(port));
}

/**
 * Where the stacks keep local Terraform state for the target `env` describes: KEYROLL_STATE_DIR if
 * set, else the emulator's folder (loopback AWS_ENDPOINT_URL), else `.keyroll/state`.
 */
export function stateDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KEYROLL_STATE_DIR) return path.resolve(env.KEYROLL_STATE_DIR);
  const endpoint = env.AWS_ENDPOINT_URL ?? '';
  return isLocalEndpoint(endpoint) ? localStateDir(emulatorPort(endpoint)) : AWS_STATE_DIR;
}

/**
 * Forgets what keyroll keeps for the emulator on `port`, because a new one starts empty there or
 * the old one is gone: its Terraform state, and its cdktf output (a cache; the next deploy there
 * synthesizes again). Never touches a KEYROLL_STATE_DIR: that folder is its owner's.
 * @returns the state folder, relative to the project, when there was state to clear
 */
export function clearLocalState(port: number): string | undefined {
  fs.rmSync(localCdktfOutDir(port), { recursive: true, force: true });
  const dir = localStateDir(port);
  // State files of the layout before per-port folders (`.keyroll/state/local/*.tfstate`) describe
  // an emulator that is long gone too.
  const legacy = fs.existsSync(LOCAL_STATE_ROOT)
    ? fs.readdirSync(LOCAL_STATE_ROOT, { withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.includes('.tfstate'))
    : [];
  for (const entry of legacy) fs.rmSync(path.join(LOCAL_STATE_ROOT, entry.name), { force: true });
  if (!fs.existsSync(dir)) return legacy.length > 0 ? path.relative(PROJECT_ROOT, LOCAL_STATE_ROOT) : undefined;
  fs.rmSync(dir, { recursive: true, force: true });
  return path.relative(PROJECT_ROOT, dir);
}
