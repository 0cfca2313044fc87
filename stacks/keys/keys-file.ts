/**
 * Reads the keys a platform team declares in YAML (default `stacks/keys.yaml`). YAML because it is
 * what the people who own these keys already review in pull requests. A file with any problem is
 * refused with all of them at once (see keys-file-check.ts, which `keyroll check` runs too).
 */
import { type KeysFile, formatProblems, inspectKeysFile } from './keys-file-check';

export type { KeysFile } from './keys-file-check';

/** The keys and declared permissions in `file`; throws one Error listing every problem. */
export function loadKeysFile(file: string): KeysFile {
  const { problems, content } = inspectKeysFile(file);
  if (problems.length > 0 || !content) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    throw new Error(`${file} has ${count} (\`npm run check\` lists them too):\n${formatProblems(problems)}`);
  }
  return content;
}
