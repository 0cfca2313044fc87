/**
 * Where the CLI gets the management key it calls the API with: KEYROLL_API_KEY or a file named by
 * --key-file. Never a flag value, which would land in shell history and `ps`.
 */
import * as fs from 'node:fs';
import { hasKeyLength } from '../keys/key-format';
import { CliError } from './cli-error';

export function managementKey(options: { keyFile?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (options.keyFile) {
    let text: string;
    try {
      text = fs.readFileSync(options.keyFile, 'utf8');
    } catch (error) {
      throw new CliError('KEY_FILE_UNREADABLE', `Cannot read --key-file ${options.keyFile} (${(error as NodeJS.ErrnoException).code ?? 'error'}). Give the path of a file holding only the key.`);
    }
    return checked(text.trim(), `--key-file ${options.keyFile}`);
  }
  if (env.KEYROLL_API_KEY) return checked(env.KEYROLL_API_KEY.trim(), 'KEYROLL_API_KEY');
  throw new CliError(
    'MISSING_API_KEY',
    'No management key: set KEYROLL_API_KEY, or pass --key-file <path> naming a file that holds it. `npx keyroll bootstrap --tenant <tenant> > owner.key` makes a first one.',
  );
}

function checked(key: string, source: string): string {
  // Only the length is checked here (never echoing the value); the service judges the rest.
  if (!hasKeyLength(key)) throw new CliError('INVALID_API_KEY', `${source} does not hold a keyroll key (kr_live_…, kr_test_… or kr_dev_…). Check that it was copied whole.`);
  return key;
}
