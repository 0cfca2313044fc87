/**
 * Reads the keys a platform team declares in YAML (default `stacks/keys.yaml`). YAML because it is
 * what the people who own these keys already review in pull requests; every field is checked at
 * synth with an error naming the file, the key and the fix.
 */
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { ApiKeyProps } from './api-key-props';

const keysFileSchema = z.strictObject({
  /** Default tenant for keys that don't name one. */
  tenant: z.string().optional(),
  keys: z.array(z.looseObject({ name: z.string('must be the key name') }), { error: 'must be a list of keys' }).min(1, 'must declare at least one key'),
});

export function loadKeysFile(file: string): ApiKeyProps[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`Cannot read keys file ${file}: create it, or point KEYROLL_KEYS_FILE at yours.`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = keysFileSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `\`${issue.path.join('.') || '(top level)'}\` ${issue.message}`);
    throw new Error(`${file} is invalid:\n  - ${problems.join('\n  - ')}\nExpected: tenant: <tenant>, keys: [{ name, environment, permissions, … }]`);
  }
  const { tenant, keys } = parsed.data;
  return keys.map((key, index) => {
    const withTenant = { tenant, ...key } as Record<string, unknown>;
    if (!withTenant.tenant) throw new Error(`${file}: \`keys.${index}\` (${key.name}) has no tenant: set \`tenant\` on the key or at the top of the file.`);
    return withTenant as unknown as ApiKeyProps;
  });
}
