/**
 * The keys file check, run before cdktf: a broken keys.yaml is reported at once, every problem
 * with its line, instead of by a synth that stops at the first one after several seconds. An
 * adapter, so the deploy runner depends only on this one call into stacks/keys.
 */
import * as path from 'node:path';
import { PROJECT_ROOT } from '../deploy-target';
import { checkKeysFile, formatProblems } from '../keys/keys-file-check';

export interface KeysFileGate {
  /** The file, as shown to the user (relative to the working directory when inside it). */
  readonly file: string;
  /** One line per problem; empty when the file may be deployed. */
  readonly problems: string[];
  readonly warnings: string[];
}

/** The file the stacks will read: KEYROLL_KEYS_FILE, else stacks/keys.yaml (as in stacks/main.ts). */
export function keysFileFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.KEYROLL_KEYS_FILE || path.join(PROJECT_ROOT, 'stacks', 'keys.yaml'));
}

export function checkKeysFileBeforeDeploy(env: NodeJS.ProcessEnv = process.env): KeysFileGate {
  const absolute = keysFileFromEnv(env);
  const relative = path.relative(process.cwd(), absolute);
  const file = relative && !relative.startsWith('..') ? relative : absolute;
  const { problems, warnings } = checkKeysFile(file);
  return { file, problems: problems.length > 0 ? formatProblems(problems).split('\n') : [], warnings };
}
