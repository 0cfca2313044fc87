import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadKeysFile } from './keys-file';

const write = (text: string) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-')), 'keys.yaml');
  fs.writeFileSync(file, text);
  return file;
};

describe('keys file', () => {
  it('reads the example app', () => {
    const keys = loadKeysFile(path.join(__dirname, '..', 'keys.yaml'));
    expect(keys.map((k) => [k.tenant, k.name, k.environment])).toEqual([
      ['acme', 'telemetry-ingest', 'production'],
      ['acme', 'telemetry-legacy', 'production'],
      ['acme', 'staging-dashboard', 'staging'],
    ]);
    expect(keys[1].consumers?.[0]).toMatchObject({ mode: 'inline' });
  });

  it('names the file and the field for bad input', () => {
    const missing = write('tenant: acme\n');
    expect(() => loadKeysFile(missing)).toThrow(new RegExp(`${missing} is invalid:[\\s\\S]*\`keys\` must be a list of keys`));
    expect(() => loadKeysFile(write('keys: [{ name: x }]\n'))).toThrow(/`keys.0` \(x\) has no tenant/);
    expect(() => loadKeysFile(write('keys: [\n'))).toThrow(/is not valid YAML/);
    expect(() => loadKeysFile('/nonexistent/keys.yaml')).toThrow(/KEYROLL_KEYS_FILE/);
  });
});
