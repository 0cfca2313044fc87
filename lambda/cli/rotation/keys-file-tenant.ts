/** The tenants a rotation command means when it names none: the keys file's. */
import * as path from 'node:path';
import { inspectKeysFile, keysFilePath } from '../../../stacks/keys/keys-file-check';
import { CliError } from '../cli-error';

/**
 * Every tenant the keys file declares keys for, sorted.
 * @param file `--file`, else KEYROLL_KEYS_FILE, else stacks/keys.yaml
 * @throws CliError TENANT_REQUIRED when the file cannot tell (unreadable, with problems, or no keys)
 */
export function keysFileTenants(file?: string): string[] {
  const { resolved, shown } = where(file);
  const { problems, content } = inspectKeysFile(resolved);
  if (problems.length > 0 || !content) {
    const why = problems[0]?.code === 'KEYS_FILE_UNREADABLE' ? `${shown} cannot be read` : `${shown} has problems (\`npx keyroll check --file ${shown}\` lists them)`;
    throw new CliError('TENANT_REQUIRED', `Name the tenant with --tenant <tenant>: ${why}, so it cannot say which tenant is meant.`);
  }
  const tenants = [...new Set(content.keys.map((key) => key.tenant).filter((tenant): tenant is string => typeof tenant === 'string'))].sort();
  if (tenants.length > 0) return tenants;
  throw new CliError('TENANT_REQUIRED', `Name the tenant with --tenant <tenant>: ${shown} declares no keys.`);
}

function where(file?: string): { resolved: string; shown: string } {
  const resolved = keysFilePath(file);
  const relative = path.relative(process.cwd(), resolved);
  return { resolved, shown: relative.startsWith('..') ? resolved : relative };
}
