/**
 * `keyroll check [--file <path>]` (and `npm run check`): checks the keys file without cdktf and
 * prints every problem at once, one line each, `<file>:<line>:<col> key … field …: … — <fix>`,
 * then exits 1; or `<file>: N keys, OK`. Deploys run the same check before cdktf starts.
 */
import * as path from 'node:path';
import { formatProblems, inspectKeysFile, keysFilePath } from '../../../stacks/keys/keys-file-check';

export interface CheckOptions {
  /** @default KEYROLL_KEYS_FILE, or stacks/keys.yaml */
  readonly file?: string;
}

export function checkCommand(options: CheckOptions): void {
  const file = keysFilePath(options.file);
  // Relative to where the user stands, so `file:line:col` is clickable in their terminal.
  const relative = path.relative(process.cwd(), file);
  const shown = relative.startsWith('..') ? file : relative;
  const { problems, warnings, content } = inspectKeysFile(shown);
  for (const warning of warnings) process.stderr.write(`${warning}\n`);
  if (problems.length > 0) {
    process.stderr.write(`${formatProblems(problems)}\n`);
    const count = problems.length === 1 ? '1 problem; fix it' : `${problems.length} problems; fix them`;
    process.stderr.write(`${shown}: ${count} and run \`keyroll check\` again.\n`);
    process.exitCode = 1;
    return;
  }
  const count = content?.keys.length ?? 0;
  process.stderr.write(`${shown}: ${count === 1 ? '1 key' : `${count} keys`}, OK\n`);
}
