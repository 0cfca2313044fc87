/** `keyroll check` as a user runs it: a real child process, no cdktf, no AWS. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'lambda', 'cli', 'bin.cjs');
const FIXTURES = path.join(ROOT, 'stacks', 'keys', '__fixtures__');

function keyroll(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { KEYROLL_KEYS_FILE: _ignored, ...inherited } = process.env;
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...inherited, ...env }, encoding: 'utf8', timeout: 60_000 });
}

const NO_STACK_TRACE = /\n\s+at /;

describe('keyroll check', () => {
  it('reports five different mistakes in one run, each once, with file:line:col, the bad value and the fix, and exits 1', () => {
    const file = path.join(FIXTURES, 'five-mistakes.yaml');
    const shown = path.relative(ROOT, file);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const lineOf = (text: string, from = 0) => lines.findIndex((line, i) => i >= from && line.includes(text)) + 1;
    const run = keyroll(['check', '--file', file]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toMatch(NO_STACK_TRACE);
    const expected = [
      new RegExp(`^${shown}:${lineOf('environment: qa')}:\\d+ key acme/ingest field environment: is "qa" — must be one of production, staging, development$`),
      new RegExp(`^${shown}:${lineOf('permision:')}:\\d+ key acme/dashboard field permision: is not a field of a key — did you mean "permissions"\\?$`),
      new RegExp(`^${shown}:${lineOf('telemetry:wrte')}:\\d+ key acme/writer field permissions\\[0\\]: is "telemetry:wrte", which is not a known permission — did you mean "telemetry:write"\\? `),
      new RegExp(`^${shown}:${lineOf('tags:')}:\\d+ key acme/tagged field tags: is \\["a",.*"k"\\] — must hold at most 10 tags$`),
      new RegExp(`^${shown}:${lineOf('name: ingest', lineOf('name: ingest'))}:\\d+ key acme/ingest field name: is "ingest", so acme/ingest is declared twice .* — key names must be unique within a tenant`),
    ];
    const output = run.stderr.trimEnd().split('\n');
    for (const pattern of expected) expect(output.filter((line) => pattern.test(line))).toHaveLength(1);
    expect(output).toHaveLength(expected.length + 1);
    expect(output[output.length - 1]).toBe(`${shown}: 5 problems; fix them and run \`keyroll check\` again.`);
  });

  it('reports a YAML syntax error once, at its line and column, with no stack trace', () => {
    const run = keyroll(['check', '--file', path.join(FIXTURES, 'not-yaml.yaml')]);
    expect(run.status).toBe(1);
    expect(run.stderr).not.toMatch(NO_STACK_TRACE);
    expect(run.stderr).toBe(
      'stacks/keys/__fixtures__/not-yaml.yaml:7:1 is not valid YAML: Tabs are not allowed as indentation — indent with spaces, not tabs\n' +
        'stacks/keys/__fixtures__/not-yaml.yaml: 1 problem; fix it and run `keyroll check` again.\n',
    );
  });

  it('passes the example app (the default file), with no warnings', () => {
    const run = keyroll(['check']);
    expect(run.status).toBe(0);
    const output = run.stderr.trimEnd().split('\n');
    expect(output.filter((line) => /warning:/.test(line))).toEqual([]);
    expect(output[output.length - 1]).toBe('stacks/keys.yaml: 3 keys, OK');
  });

  it('checks the file KEYROLL_KEYS_FILE names, as deploys read it, and says how to fix a missing one', () => {
    const missing = path.join(FIXTURES, 'missing.yaml');
    const run = keyroll(['check'], { KEYROLL_KEYS_FILE: missing });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^stacks\/keys\/__fixtures__\/missing.yaml: cannot be read \(ENOENT\) — create it, or point KEYROLL_KEYS_FILE/);
    expect(run.stderr).not.toMatch(NO_STACK_TRACE);
  });

  it('runs as `npm run check`', () => {
    const { KEYROLL_KEYS_FILE: _ignored, ...env } = process.env;
    const run = spawnSync('npm', ['run', '--silent', 'check', '--', '--file', path.join(FIXTURES, 'not-yaml.yaml')], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/not-yaml.yaml:7:1 is not valid YAML/);
  });
});
