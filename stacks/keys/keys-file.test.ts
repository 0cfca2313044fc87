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
  it('reads the example app: its keys, and no permissions of its tenant’s own', () => {
    const { keys, declaredPermissions } = loadKeysFile(path.join(__dirname, '..', 'keys.yaml'));
    expect(keys.map((k) => [k.tenant, k.name, k.environment])).toEqual([
      ['acme', 'telemetry-ingest', 'production'],
      ['acme', 'telemetry-legacy', 'production'],
      ['acme', 'staging-dashboard', 'staging'],
    ]);
    expect(keys[1].consumers?.[0]).toMatchObject({ mode: 'inline' });
    expect(declaredPermissions).toEqual({});
  });

  it('gives keys that name no tenant the top-level one', () => {
    const file = write('tenant: acme\nkeys:\n  - { name: a, environment: staging, permissions: [x:y] }\n  - { name: b, tenant: globex, environment: staging, permissions: [x:y] }\n');
    expect(loadKeysFile(file).keys.map((k) => `${k.tenant}/${k.name}`)).toEqual(['acme/a', 'globex/b']);
  });

  it('refuses a file with problems in one Error listing all of them, each at its line', () => {
    const file = path.join(__dirname, '__fixtures__', 'five-mistakes.yaml');
    let message = '';
    try {
      loadKeysFile(file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      `${file} has 5 problems (\`npm run check\` lists them too):`,
      expect.stringMatching(new RegExp(`^${file}:6:18 key acme/ingest field environment: is "qa"`)),
      expect.stringMatching(/:10:5 key acme\/dashboard field permision: /),
      expect.stringMatching(/:14:19 key acme\/writer field permissions\[0\]: is "telemetry:wrte"/),
      expect.stringMatching(/:18:11 key acme\/tagged field tags: /),
      expect.stringMatching(/:19:11 key acme\/ingest field name: is "ingest", so acme\/ingest is declared twice/),
    ]);
  });

  it('names the file, the line and the fix for a file that is not YAML or cannot be read', () => {
    const broken = write('keys: [\n');
    expect(() => loadKeysFile(broken)).toThrow(new RegExp(`${broken}:2:1 is not valid YAML: `));
    expect(() => loadKeysFile('/nonexistent/keys.yaml')).toThrow(/cannot be read \(ENOENT\) — create it, or point KEYROLL_KEYS_FILE/);
  });
});
