import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkKeysFile, formatProblem, inspectKeysFile, type KeysFileProblem } from './keys-file-check';

const EXAMPLE = path.join(__dirname, '..', 'keys.yaml');
const FIXTURES = path.join(__dirname, '__fixtures__');

const write = (text: string) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-check-')), 'keys.yaml');
  fs.writeFileSync(file, text);
  return file;
};

/** A file of one tenant's keys, each a YAML block under `keys:`. */
const keysFile = (...keys: string[]) => write(`tenant: acme\nkeys:\n${keys.map((k) => `  - ${k.replace(/\n/g, '\n    ')}`).join('\n')}\n`);
const KEY = 'name: ingest\nenvironment: production\npermissions: [telemetry:write]';

const problemsOf = (file: string) => checkKeysFile(file).problems;
const brief = (p: KeysFileProblem) => ({ code: p.code, line: p.line, key: p.key, field: p.field });

describe('checkKeysFile', () => {
  it('passes the example app, with no warnings (rotation is acted on)', () => {
    const { problems, warnings, content } = inspectKeysFile(EXAMPLE);
    expect(problems).toEqual([]);
    expect(content?.keys.map((k) => `${k.tenant}/${k.name}`)).toEqual(['acme/telemetry-ingest', 'acme/telemetry-legacy', 'acme/staging-dashboard']);
    expect(content?.declaredPermissions).toEqual({});
    expect(warnings).toEqual([]);
  });

  it('reports five different mistakes in one run, each once, at its line, quoting the bad value, with the fix', () => {
    const file = path.join(FIXTURES, 'five-mistakes.yaml');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const lineOf = (text: string, from = 0) => lines.findIndex((line, i) => i >= from && line.includes(text)) + 1;
    const problems = problemsOf(file);
    expect(problems.map(brief)).toEqual([
      { code: 'INVALID_VALUE', line: lineOf('environment: qa'), key: 'acme/ingest', field: 'environment' },
      { code: 'UNKNOWN_FIELD', line: lineOf('permision:'), key: 'acme/dashboard', field: 'permision' },
      { code: 'UNKNOWN_PERMISSION', line: lineOf('telemetry:wrte'), key: 'acme/writer', field: 'permissions[0]' },
      { code: 'INVALID_VALUE', line: lineOf('tags:'), key: 'acme/tagged', field: 'tags' },
      { code: 'DUPLICATE_KEY', line: lineOf('name: ingest', lineOf('name: ingest')), key: 'acme/ingest', field: 'name' },
    ]);
    expect(problems.map(formatProblem)).toEqual([
      `${file}:${lineOf('environment: qa')}:18 key acme/ingest field environment: is "qa" — must be one of production, staging, development`,
      `${file}:${lineOf('permision:')}:5 key acme/dashboard field permision: is not a field of a key — did you mean "permissions"?`,
      expect.stringMatching(/field permissions\[0\]: is "telemetry:wrte", which is not a known permission — did you mean "telemetry:write"\? The known permissions are \*, keys:\*, keys:manage, telemetry:\*, telemetry:read, telemetry:write/),
      expect.stringMatching(/field tags: is \["a",.*"k"\] — must hold at most 10 tags$/),
      expect.stringMatching(/field name: is "ingest", so acme\/ingest is declared twice \(also keys\[0\] at line 5\) — key names must be unique within a tenant/),
    ]);
  });

  it('reports a YAML syntax error at its line and column, once, and nothing it would have to guess', () => {
    const problems = problemsOf(path.join(FIXTURES, 'not-yaml.yaml'));
    expect(problems).toEqual([expect.objectContaining({ code: 'YAML_SYNTAX', line: 7, column: 1, problem: 'is not valid YAML: Tabs are not allowed as indentation', fix: 'indent with spaces, not tabs' })]);
    const duplicate = problemsOf(keysFile(`${KEY}\nenvironment: staging`));
    expect(duplicate.map(formatProblem)).toEqual([expect.stringMatching(/:6:5 is not valid YAML: field "environment" appears twice in one map — remove one of them/)]);
  });

  it('names the file and the fix when the file cannot be read, or holds no keys', () => {
    expect(problemsOf('/nonexistent/keys.yaml').map(formatProblem)).toEqual([
      '/nonexistent/keys.yaml: cannot be read (ENOENT) — create it, or point KEYROLL_KEYS_FILE (or `keyroll check --file`) at yours',
    ]);
    expect(problemsOf(write('')).map(brief)).toEqual([{ code: 'INVALID_VALUE', line: 1, key: undefined, field: '(top level)' }]);
    expect(problemsOf(write('tenant: acme\n')).map((p) => [p.field, p.problem])).toEqual([['keys', 'is missing']]);
    expect(problemsOf(write('tenant: acme\nkeys: []\n')).map((p) => p.fix)).toEqual(['must declare at least one key']);
    expect(problemsOf(write('tenant: acme\nkey: []\n')).map((p) => [p.field, p.fix])).toEqual([
      ['keys', 'add it: it must be a list of keys'],
      ['key', 'did you mean "keys"?'],
    ]);
  });

  it('suggests the environment, prop, consumer field and permission meant', () => {
    const file = keysFile(
      'name: a\nenvironment: prodution\npermissions: [telemtry:write]\nrateLimt: { limit: 1, windowSeconds: 1 }',
      'name: b\nenvironment: staging\npermissions: [keys:manage]\nconsumers:\n  - { type: iot-rule, ruleName: r_b, topc: b/+ }',
    );
    expect(problemsOf(file).map((p) => [p.key, p.field, p.fix.split('?')[0]])).toEqual([
      ['acme/a', 'environment', 'did you mean "production"'],
      ['acme/a', 'permissions[0]', 'did you mean "telemetry:write"'],
      ['acme/a', 'rateLimt', 'did you mean "rateLimit"'],
      ['acme/b', 'consumers[0].topic', 'add it: it must be an MQTT topic filter, e.g. acme/telemetry/+'],
      ['acme/b', 'consumers[0].topc', 'did you mean "topic"'],
    ]);
  });

  it('says why a declared name must fit AWS names, and suggests one that does', () => {
    const [problem] = problemsOf(keysFile('name: Sensor Fleet\nenvironment: production\npermissions: [telemetry:write]'));
    expect(problem).toMatchObject({ key: 'keys[0]', field: 'name', problem: 'is "Sensor Fleet"' });
    expect(problem.fix).toMatch(/^did you mean "sensor-fleet"\? It must be 1-63 lowercase letters, digits or dashes, .*AWS resource names \(its secret is keyroll\/<tenant>\/<name>\)/);
  });

  it('reports an inherited tenant once, however many keys inherit it', () => {
    const bad = write('tenant: Acme Corp\nkeys:\n  - name: a\n    environment: staging\n    permissions: [x:y]\n  - name: b\n    environment: staging\n    permissions: [x:y]\n');
    expect(problemsOf(bad).map(brief)).toEqual([{ code: 'INVALID_VALUE', line: 1, key: undefined, field: 'tenant' }]);
    const none = write('keys:\n  - name: a\n    environment: staging\n    permissions: [x:y]\n  - name: b\n    environment: staging\n    permissions: [x:y]\n');
    expect(problemsOf(none).map((p) => [p.code, p.field, p.problem])).toEqual([['NO_TENANT', 'tenant', 'is missing, but keys[0], keys[1] name no tenant of their own']]);
  });

  it('finds what the ApiKey construct and the keys stack would refuse at synth', () => {
    const file = keysFile(
      `${KEY}\nexpiresAt: 2020-01-01T00:00:00Z\nrotation: { everyDays: 30, graceMinutes: 5 }\nconsumers:\n  - { type: iot-rule, ruleName: r1, topic: a/+ }\n  - { type: iot-rule, ruleName: r1, topic: b/+ }`,
      'name: other\nenvironment: staging\npermissions: [telemetry:write]\nconsumers:\n  - { type: iot-rule, ruleName: r1, topic: c/+ }',
    );
    expect(problemsOf(file).map((p) => [p.code, p.key, p.field])).toEqual([
      ['EXPIRED', 'acme/ingest', 'expiresAt'],
      ['GRACE_UNDER_IOT_CACHE', 'acme/ingest', 'rotation.graceMinutes'],
      ['RULE_REPEATED', 'acme/ingest', 'consumers[1].ruleName'],
      ['RULE_SHARED', 'acme/other', 'consumers[0].ruleName'],
    ]);
  });

  it('reports the problems of lambda-env and ssm-parameter consumers at their line and column, with the fix', () => {
    const file = keysFile(
      `${KEY}\nconsumers:\n  - type: lambda-env\n    functionName: acme-ingest\n    variable: AWS_REGION\n  - type: lambda-env\n    functionName: acme-ingest:live\n    varible: KEYROLL_API_KEY\n  - { type: ssm-parameter, name: /aws/acme/key }\n  - { type: lambda_env, functionName: acme-ingest, variable: KEYROLL_API_KEY }`,
    );
    const problems = problemsOf(file);
    expect(problems.map((p) => [p.code, p.line, p.column, p.field])).toEqual([
      ['INVALID_VALUE', 9, 19, 'consumers[0].variable'],
      ['MISSING_FIELD', 10, 9, 'consumers[1].variable'],
      ['INVALID_VALUE', 11, 23, 'consumers[1].functionName'],
      ['UNKNOWN_FIELD', 12, 9, 'consumers[1].varible'],
      ['INVALID_VALUE', 13, 38, 'consumers[2].name'],
      ['INVALID_VALUE', 14, 17, 'consumers[3].type'],
    ]);
    expect(problems.map((p) => `${p.problem} — ${p.fix}`)).toEqual([
      'is "AWS_REGION" — must not be a name Lambda reserves (AWS_*, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, TZ): name the variable your function reads the key from, e.g. KEYROLL_API_KEY',
      expect.stringMatching(/^is missing — add it: it must be an environment variable name/),
      'is "acme-ingest:live" — must be a Lambda function name (1-64 letters, digits, dashes or underscores) or its ARN, without a version or alias',
      'is not a field of a consumer — did you mean "variable"?',
      'is "/aws/acme/key" — must not begin with "aws" or "ssm" (prefixes SSM reserves), e.g. /acme/ingest/api-key',
      'is "lambda_env" — did you mean "lambda-env"? It must be one of "iot-rule", "lambda-env", "ssm-parameter"',
    ]);
  });

  it('refuses two consumers that would hold one credential place, within a key or across keys', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:acme-writer';
    const file = keysFile(
      `${KEY}\nconsumers:\n  - { type: lambda-env, functionName: acme-writer, variable: KEYROLL_API_KEY }\n  - { type: ssm-parameter, name: /acme/writer/key }\n  - { type: lambda-env, functionName: "${arn}", variable: KEYROLL_API_KEY }`,
      'name: other\nenvironment: staging\npermissions: [telemetry:write]\nconsumers:\n  - { type: ssm-parameter, name: acme/writer/key }\n  - { type: lambda-env, functionName: acme-writer, variable: KEYROLL_API_KEY }',
    );
    expect(problemsOf(file).map((p) => [p.code, p.line, p.key, p.field, p.problem])).toEqual([
      ['CONSUMER_REPEATED', 9, 'acme/ingest', 'consumers[2].variable', 'is "KEYROLL_API_KEY" in function acme-writer, which consumers[0] writes too'],
      ['CONSUMER_SHARED', 14, 'acme/other', 'consumers[0].name', 'is "acme/writer/key", already the parameter of acme/ingest (keys[0] at line 3)'],
      ['CONSUMER_SHARED', 15, 'acme/other', 'consumers[1].variable', 'is "KEYROLL_API_KEY" in function acme-writer, which acme/ingest (keys[0] at line 3) writes already'],
    ]);
  });

  it('checks the shape of a rotation', () => {
    const { problems, warnings } = checkKeysFile(keysFile(`${KEY}\nrotation: { everyDays: 0, graceMinutes: 60, everyDay: 1 }`));
    expect(problems.map((p) => [p.field, p.fix])).toEqual([
      ['rotation.everyDays', 'must be at least 1 day'],
      ['rotation.everyDay', 'did you mean "everyDays"?'],
    ]);
    expect(warnings).toEqual([]);
  });

  describe('declared permissions', () => {
    const declaring = (permissions: string, ...keys: string[]) => write(`tenant: acme\npermissions: ${permissions}\nkeys:\n${keys.map((k) => `  - ${k.replace(/\n/g, '\n    ')}`).join('\n')}\n`);

    it("hold the tenant's keys to keyroll's own and the declared ones, with a did-you-mean", () => {
      const file = declaring('[billing:read, customers:read]', 'name: a\nenvironment: staging\npermissions: [billing:read, billing:*, telemetry:write, billing:raed, reports:read]');
      expect(problemsOf(file).map((p) => [p.field, p.problem, p.fix.split('?')[0]])).toEqual([
        ['permissions[3]', 'is "billing:raed", which is not a known permission', 'did you mean "billing:read"'],
        ['permissions[4]', 'is "reports:read", which is not a known permission', expect.stringContaining('The known permissions are *, billing:*, billing:read, customers:*, customers:read, keys:*')],
      ]);
    });

    it('apply to the top-level tenant only', () => {
      const file = declaring('[billing:read]', 'name: a\ntenant: globex\nenvironment: staging\npermissions: [reports:read]');
      expect(problemsOf(file)).toEqual([]);
    });

    it('must be concrete, well-formed and listed once; keyroll’s own are not needed', () => {
      const { problems, warnings } = checkKeysFile(declaring('[billing:read, "*", billing:*, Billing, billing:read, telemetry:write]', KEY));
      expect(problems.map((p) => [p.field, p.problem])).toEqual([
        ['permissions[1]', 'is "*"'],
        ['permissions[2]', 'is "billing:*"'],
        ['permissions[3]', 'is "Billing"'],
        ['permissions[4]', 'is "billing:read", listed twice'],
      ]);
      expect(warnings).toEqual([expect.stringMatching(/:2:\d+ warning: field permissions\[5\]: is "telemetry:write", one of keyroll's own permissions, which are always known — remove it/)]);
      expect(problemsOf(declaring('[]', KEY)).map((p) => p.fix)).toEqual(['must declare at least one permission, or be removed']);
    });

    it('need a top-level tenant to belong to', () => {
      const file = write('permissions: [billing:read]\nkeys:\n  - tenant: acme\n    name: a\n    environment: staging\n    permissions: [billing:read]\n');
      expect(problemsOf(file).map((p) => [p.code, p.problem])).toEqual([['NO_TENANT', 'is missing, but `permissions:` declares permissions for it']]);
    });
  });
});
