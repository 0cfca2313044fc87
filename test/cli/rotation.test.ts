/**
 * `keyroll rotate`, `keyroll rotation status|sweep` and the 202 of `keyroll keys regenerate`, as a
 * user runs them: child processes against the emulator, where the real `keyroll-rotation` Lambda
 * (bundled as a deploy bundles it, run by the emulator's Node runtime) rotates real secrets through
 * Secrets Manager's asynchronous RotateSecret, on a keys table of this file's own.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { resolveAwsTarget } from '../../lambda/cli/aws-target';
import { ROTATION_FUNCTION_NAME } from '../../lambda/cli/rotation/rotation-function';
import { startRotation } from '../../lambda/cli/rotation/start-rotation';
import { startGuide } from '../../lambda/cli/start-guide';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { readRotationEvents, waitForRotationEvent } from '../../lambda/local-aws';
import type { KeySpec } from '../../lambda/provision/key-spec';
import type { RotationState } from '../../lambda/rotate/rotation-plan';
import { RotationRecordStore } from '../../lambda/rotate/rotation-record';
import type { KeyRotationStatus } from '../../lambda/rotate/status-report';
import type { SweepReport } from '../../lambda/rotate/sweep';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { specItemKey } from '../../lambda/tables/table-layout';
import { ROTATION_FUNCTION_NAME as STACK_FUNCTION_NAME } from '../../stacks/platform/rotation-function';
import { createNodeFunction, emulatorClientConfig } from '../local-aws/fixtures';
import { bundleLambda } from '../support/bundle-lambda';
import { type Run, runProcess } from '../support/child-process';
import { type Harness, startHarness, uniqueTables } from '../support/service-harness';

const BIN = path.join(__dirname, '..', '..', 'lambda', 'cli', 'bin.cjs');
const endpoint = emulatorClientConfig().endpoint;
const sm = new SecretsManagerClient({});
const lambda = new LambdaClient(emulatorClientConfig());
const documentClient = createDocumentClient();
const tables = uniqueTables();
const records = new RotationRecordStore(documentClient, tables.keys);
/** Tenants of this file alone: `--all` lists secrets by name prefix, and the emulator is shared. */
const tenant = `cli-rot-${randomBytes(3).toString('hex')}`;
const quiet = `cli-quiet-${randomBytes(3).toString('hex')}`;

let harness: Harness;
let functionName: string;
let functionArn: string;
let brokenFunction: string;
let owner: string;
let scratch: string;

beforeAll(async () => {
  harness = await startHarness({ tables });
  owner = (await harness.issue(tenant, { permissions: ['*'] })).key;
  const code = await bundleLambda(path.join(__dirname, '../../lambda/rotate/handler.ts'));
  // No horizon and no usage lag: the sweep may retire a drained credential at once.
  const variables = { KEYROLL_KEYS_TABLE: tables.keys, KEYROLL_CONSUMER_CACHE_SECONDS: '0', KEYROLL_USAGE_LAG_SECONDS: '0', POWERTOOLS_LOG_LEVEL: 'WARN' };
  functionName = await createNodeFunction(lambda, { 'index.js': code }, { Timeout: 60, MemorySize: 256, Environment: { Variables: variables } });
  functionArn = (await lambda.send(new GetFunctionCommand({ FunctionName: functionName }))).Configuration!.FunctionArn!;
  // The same function, pointed at a table that does not exist: every status fails inside it.
  brokenFunction = await createNodeFunction(lambda, { 'index.js': code }, { Timeout: 30, Environment: { Variables: { ...variables, KEYROLL_KEYS_TABLE: 'no-such-table' } } });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-rotation-cli-'));
});

afterAll(async () => {
  await harness.stop();
  sm.destroy();
  lambda.destroy();
  fs.rmSync(scratch, { recursive: true, force: true });
});

function keyroll(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runProcess(process.execPath, [BIN, ...args], {
    env: { ...process.env, KEYROLL_ROTATION_FUNCTION: functionName, KEYROLL_KEYS_TABLE: tables.keys, KEYROLL_URL: harness.url, KEYROLL_API_KEY: owner, ...env },
  });
}

/** The spec item Terraform writes for a declared key. */
async function putSpec(keyTenant: string, name: string, rotation = true): Promise<void> {
  const spec: KeySpec = {
    tenant: keyTenant,
    name,
    environment: 'production',
    permissions: ['telemetry:write'],
    rateLimit: { limit: 600, windowSeconds: 60 },
    tags: [],
    consumers: [],
    referenceRules: [],
    ...(rotation ? { rotation: { everyDays: 30, graceMinutes: 60 } } : {}),
  };
  await documentClient.send(new PutCommand({ TableName: tables.keys, Item: { ...specItemKey(keyTenant, name), kind: 'spec', ...spec } }));
}

interface Declared {
  readonly name: string;
  readonly id: string;
  readonly credential: string;
  readonly secretArn: string;
}

/**
 * A declared key as a deploy leaves it: the spec, the key, its secret holding it, and (with
 * `rotation`) the secret's rotation configured as aws_secretsmanager_secret_rotation does it
 * (RotateImmediately=false: Secrets Manager only tests the set-up, on the current credential).
 */
async function declaredKey(name: string, options: { rotation?: boolean; keyTenant?: string } = {}): Promise<Declared> {
  const keyTenant = options.keyTenant ?? tenant;
  const rotation = options.rotation ?? true;
  await putSpec(keyTenant, name, rotation);
  const { ARN } = await sm.send(new CreateSecretCommand({ Name: `keyroll/${keyTenant}/${name}` }));
  const { record, key } = await harness.manager.create(keyTenant, { name, environment: 'production', permissions: ['telemetry:write'] }, undefined, { declared: { secretArn: ARN!, name } });
  await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: JSON.stringify({ apiKey: key, keyId: record.id, tenant: keyTenant, name, environment: 'production' }) }));
  if (rotation) {
    const { VersionId } = await sm.send(
      new RotateSecretCommand({ SecretId: ARN, RotationLambdaARN: functionArn, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false }),
    );
    await testRunDone(ARN!, VersionId!);
  }
  return { name, id: record.id, credential: key, secretArn: ARN! };
}

/** Secrets Manager's test of the set-up logs no success: it is done when its version is gone, and failed if it says so. */
async function testRunDone(secretArn: string, versionId: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: secretArn }))).VersionIdsToStages ?? {};
    if (!(versionId in stages)) break;
    if (tries > 200) throw new Error(`Secrets Manager's test of the rotation set-up of ${secretArn} did not end`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const failed = (await readRotationEvents(endpoint, { secretId: secretArn })).filter((event) => event.versionId === versionId && event.eventName === 'RotationFailed');
  expect(failed).toEqual([]);
}

async function currentVersion(secretArn: string): Promise<string | undefined> {
  const stages = (await sm.send(new DescribeSecretCommand({ SecretId: secretArn }))).VersionIdsToStages ?? {};
  return Object.keys(stages).find((id) => stages[id].includes('AWSCURRENT'));
}

const statusOf = (statuses: KeyRotationStatus[], name: string) => statuses.find((status) => status.name === name);
const versionIn = (stderr: string, key: string) => new RegExp(`rotating ${key} … started \\(version ([\\w-]+)\\)`).exec(stderr)?.[1];

it('names the deployed function as the platform stack does', () => {
  expect(ROTATION_FUNCTION_NAME).toBe(STACK_FUNCTION_NAME);
});

describe('keyroll rotation status and sweep, from the rotation records', () => {
  const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
  const failure = {
    code: 'CONSUMER_WRITE_FAILED',
    message: 'Could not write the new credential into consumer iot-rule-inline:acme_legacy: RULE_NOT_OWNED. Tag the rule, then rotate again.',
    step: 'sweep' as const,
    consumer: 'iot-rule-inline:acme_legacy',
    fix: 'Tag the rule, then rotate again.',
    at: at(-5),
  };

  beforeAll(async () => {
    for (const name of ['failed-one', 'draining-one', 'straggled-one']) await putSpec(quiet, name);
    // Repaired after a consumer could not be written: idle again, the failure kept for status.
    await records.save(quiet, 'failed-one', { phase: 'idle', consumersVerified: [], retiring: [], failure } satisfies RotationState, 0);
    // Cut over, its grace already over: the sweep retires it.
    await records.save(
      quiet,
      'draining-one',
      {
        phase: 'draining',
        versionId: 'v-draining',
        consumersVerified: [],
        lastRotatedAt: at(-70),
        retiring: [{ hash: hashCredential('kr_live_not_a_real_one'), start: 'kr_live_Ab12', cutoverAt: at(-70), graceUntil: at(-10), emergency: false }],
      } satisfies RotationState,
      0,
    );
    // Retired at the end of its grace while something still used it.
    await records.save(
      quiet,
      'straggled-one',
      { phase: 'idle', consumersVerified: [], retiring: [], lastRotatedAt: at(-90), lastRetirement: { start: 'kr_live_Zz99', at: at(-30), reason: 'grace-ended', lastUsedAt: at(-31) } } satisfies RotationState,
      0,
    );
  });

  it('shows each key as a table, with the failure (consumer and fix) and the straggler under it', async () => {
    const run = await keyroll(['rotation', 'status', '--tenant', quiet]);
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^KEY\s+PHASE\s+LAST ROTATED\s+NEXT DUE\s+OLD CREDENTIAL\s+LAST USED\s+GRACE ENDS$/);
    expect(run.stdout).toMatch(/^draining-one\s+draining\s+20\S+Z\s+not configured\s+kr_live_Ab12…\s+not since cutover\s+20\S+Z$/m);
    expect(run.stdout).toMatch(/^failed-one\s+failed\s+-\s+not configured/m);
    expect(run.stdout).toMatch(/^straggled-one\s+idle\s+20\S+Z/m);
    expect(run.stdout).toContain('failed-one: failed (sweep, 20');
    expect(run.stdout).toContain(': CONSUMER_WRITE_FAILED: Could not write the new credential into consumer iot-rule-inline:acme_legacy: RULE_NOT_OWNED.\n');
    expect(run.stdout).toContain('  consumer: iot-rule-inline:acme_legacy\n  fix: Tag the rule, then rotate again.\n');
    expect(run.stdout).toMatch(/straggled-one: the old credential kr_live_Zz99… was retired at \S+ \(its grace ended\) while still in use, last at \S+: something keyroll does not know of holds it/);
    // These secrets were never deployed: status says how to configure rotation.
    expect(run.stdout).toContain('Not rotated (no rotation configured): draining-one, failed-one, straggled-one. To rotate one, declare `rotation: { everyDays, graceMinutes }` for it in keys.yaml and deploy.');
    expect(run.stderr).toContain(`Tenant ${quiet} on local AWS at ${endpoint} (AWS_ENDPOINT_URL):`);
  });

  it('prints the status array with --json', async () => {
    const run = await keyroll(['rotation', 'status', '--tenant', quiet, '--json']);
    expect(run.status).toBe(0);
    const statuses = JSON.parse(run.stdout) as KeyRotationStatus[];
    expect(statuses.map((status) => [status.name, status.phase])).toEqual([
      ['draining-one', 'draining'],
      ['failed-one', 'failed'],
      ['straggled-one', 'idle'],
    ]);
    expect(statusOf(statuses, 'failed-one')!.failure).toEqual(failure);
    expect(statusOf(statuses, 'draining-one')!.oldCredential).toEqual({ start: 'kr_live_Ab12', graceUntil: expect.any(String) });
  });

  it('takes the tenants from the keys file: its only one, or every one it declares keys for', async () => {
    const single = path.join(scratch, 'single.yaml');
    fs.writeFileSync(single, `tenant: ${quiet}\nkeys:\n  - name: failed-one\n    environment: production\n    permissions: [telemetry:write]\n`);
    const run = await keyroll(['rotation', 'status', '--json'], { KEYROLL_KEYS_FILE: single });
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as KeyRotationStatus[]).map((status) => status.tenant)).toEqual([quiet, quiet, quiet]);

    const two = path.join(scratch, 'two.yaml');
    const other = `${quiet}-other`.slice(0, 63);
    fs.writeFileSync(
      two,
      `keys:\n  - { tenant: ${quiet}, name: a, environment: production, permissions: [telemetry:write] }\n  - { tenant: ${other}, name: b, environment: production, permissions: [telemetry:write] }\n`,
    );
    const both = await keyroll(['rotation', 'status', '--json', '--file', two]);
    expect(both.status).toBe(0);
    expect((JSON.parse(both.stdout) as KeyRotationStatus[]).map((status) => status.tenant)).toEqual([quiet, quiet, quiet]);
    const text = await keyroll(['rotation', 'status', '--file', two]);
    expect(text.status).toBe(0);
    expect(text.stderr).toContain(`Tenant ${other} has no declared keys`);
  });

  it('runs the sweep now and prints each outcome and a summary, exit 1 for a key it could not sweep; --json prints the report', async () => {
    // No secret behind the record yet: the sweep cannot look at the key, and says why.
    const failed = await keyroll(['rotation', 'sweep']);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(new RegExp(`^${quiet}/draining-one +error +.*Describing secret keyroll/${quiet}/draining-one failed: ResourceNotFoundException`, 'm'));
    expect(failed.stdout).toMatch(/^Swept 1 key: 1 error\.$/m);

    await sm.send(new CreateSecretCommand({ Name: `keyroll/${quiet}/draining-one`, SecretString: '{}' }));
    const run = await keyroll(['rotation', 'sweep']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${quiet}/draining-one +retired +the old credential kr_live_Ab12… \\(its grace ended\\)$`, 'm'));
    expect(run.stdout).toMatch(/^Swept 1 key: 1 retired\.$/m);
    expect(run.stderr).toContain(`Sweeping on local AWS at ${endpoint}`);
    expect((await records.get(quiet, 'draining-one')).state).toMatchObject({ phase: 'idle', retiring: [], lastRetirement: { reason: 'grace-ended' } });

    const again = await keyroll(['rotation', 'sweep', '--json']);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout) as SweepReport).toEqual({ checked: 0, outcomes: [] });
  });

  it('says what to deploy when the function is missing, and passes on its own error', async () => {
    const missing = await keyroll(['rotation', 'status', '--tenant', quiet], { KEYROLL_ROTATION_FUNCTION: 'keyroll-rotation-nowhere' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('keyroll: ROTATION_FUNCTION_NOT_FOUND: No Lambda function keyroll-rotation-nowhere on local AWS');
    expect(missing.stderr).toContain(`deploy the platform first: \`AWS_ENDPOINT_URL=${endpoint} npm run deploy:local\``);

    const failing = await keyroll(['rotation', 'status', '--tenant', quiet], { KEYROLL_ROTATION_FUNCTION: brokenFunction });
    expect(failing.status).toBe(1);
    expect(failing.stderr).toMatch(new RegExp(`keyroll: ROTATION_FUNCTION_FAILED: ${brokenFunction} failed: ResourceNotFoundException: .+ deploy the platform first: \`AWS_ENDPOINT_URL=`));
  });
});

describe('keyroll rotate', () => {
  it('rotates every declared key with rotation configured (--all), waits, and the sweep then retires the old credentials', async () => {
    const [first, second] = [await declaredKey('ingest'), await declaredKey('legacy')];
    await declaredKey('unrotated', { rotation: false });

    const run = await keyroll(['rotate', '--tenant', tenant, '--all', '--wait', '60']);

    expect(run.status).toBe(0);
    const versions = [versionIn(run.stderr, `${tenant}/ingest`), versionIn(run.stderr, `${tenant}/legacy`)];
    expect(versions).toEqual([expect.any(String), expect.any(String)]);
    expect(run.stderr).not.toContain('unrotated');
    expect(run.stderr).toContain(`Started 2 rotations for tenant ${tenant}.`);
    expect(run.stderr).toMatch(new RegExp(`^${tenant}/ingest: draining: version ${versions[0]} is current; the old credential kr_live_\\w{4}… keeps working until nothing has used it`, 'm'));
    for (const [key, versionId] of [[first, versions[0]], [second, versions[1]]] as const) {
      await waitForRotationEvent(endpoint, { secretId: key.secretArn, versionId, eventName: 'RotationSucceeded' });
      expect(await currentVersion(key.secretArn)).toBe(versionId);
      const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: key.secretArn, VersionStage: 'AWSCURRENT' }));
      const record = await harness.manager.get(tenant, key.id);
      expect(record.credentialHash).toBe(hashCredential(JSON.parse(SecretString!).apiKey));
      expect(record.graceCredentials.map((grace) => grace.hash)).toEqual([hashCredential(key.credential)]);
    }
    expect(run.stdout + run.stderr).not.toMatch(KEY_PATTERN_GLOBAL);

    const swept = JSON.parse((await keyroll(['rotation', 'sweep', '--json'])).stdout) as SweepReport;
    expect(swept.outcomes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tenant, name: 'ingest', action: 'retired', retired: expect.objectContaining({ reason: 'drained', stillInUse: false }) }),
        expect.objectContaining({ tenant, name: 'legacy', action: 'retired' }),
      ]),
    );
    expect((await harness.manager.get(tenant, first.id)).graceCredentials).toEqual([]);
    const statuses = JSON.parse((await keyroll(['rotation', 'status', '--tenant', tenant, '--json'])).stdout) as KeyRotationStatus[];
    expect(statusOf(statuses, 'ingest')).toMatchObject({ phase: 'idle', versionId: versions[0], rotationEnabled: true, lastRotatedAt: expect.any(String), nextDueAt: expect.any(String) });
    expect(statusOf(statuses, 'unrotated')).toMatchObject({ phase: 'idle', rotationEnabled: false });
  });

  it('--emergency warns first, marks the record, and the rotation retires the old credential with no drain', async () => {
    const key = await declaredKey('leaked');

    const run = await keyroll(['rotate', '--tenant', tenant, '--key', 'leaked', '--emergency', '--json'], { KEYROLL_IOT_SECRET_CACHE_SECONDS: '120' });

    expect(run.status).toBe(0);
    expect(run.stderr).toContain('Emergency rotation: the old credential is retired as soon as every declared consumer keyroll writes holds the new one, with no drain.');
    expect(run.stderr).toContain('Reference consumers (IoT rules reading the secret through get_secret) may keep sending the old credential from their cache, and fail, for up to the cache horizon: 120 s');
    const output = JSON.parse(run.stdout) as { started: { versionId: string; emergency: boolean }[]; failed: unknown[] };
    expect(output.failed).toEqual([]);
    expect(output.started).toEqual([expect.objectContaining({ tenant, name: 'leaked', emergency: true, versionId: versionIn(run.stderr, `${tenant}/leaked`) })]);
    const { versionId } = output.started[0];
    await waitForRotationEvent(endpoint, { secretId: key.secretArn, versionId, eventName: 'RotationSucceeded' });
    // createSecret took the mark up; finishSecret retired the old credential at once.
    const { state } = await records.get(tenant, 'leaked');
    expect(state).toMatchObject({ versionId, emergency: true, phase: 'idle', retiring: [], lastRetirement: { reason: 'emergency' } });
    expect(state.emergencyRequested).toBeUndefined();
    expect((await harness.manager.get(tenant, key.id)).graceCredentials).toEqual([]);
  });

  it('an emergency that Secrets Manager refuses leaves no mark for the next scheduled rotation', async () => {
    await declaredKey('refused');
    const secrets = new SecretsManagerClient({});
    // RotateSecret refused after the checks passed (a rotation started in between, say).
    secrets.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'RotateSecretCommand') throw Object.assign(new Error('Secrets Manager cannot invoke the specified Lambda function.'), { name: 'InvalidRequestException' });
        return next(args);
      },
      { step: 'initialize', name: 'refuseRotateSecret' },
    );
    const deps = { secrets, target: await resolveAwsTarget(), keysTable: tables.keys, leaseOwner: 'test-cli', records: () => records };
    await expect(startRotation(deps, tenant, 'refused', { emergency: true })).rejects.toMatchObject({ code: 'ROTATION_REFUSED' });
    const record = await records.get(tenant, 'refused');
    expect(record.version).toBeGreaterThan(0);
    expect(record.state.emergencyRequested).toBeUndefined();
    secrets.destroy();
  });

  describe('errors say what to do', () => {
    it('a key that is not deployed, or has no rotation', async () => {
      const missing = await keyroll(['rotate', '--tenant', tenant, '--key', 'nowhere']);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain(`rotating ${tenant}/nowhere … failed: KEY_NOT_DEPLOYED: Key ${tenant}/nowhere is not deployed: there is no secret keyroll/${tenant}/nowhere`);
      expect(missing.stderr).toContain('or declare it in keys.yaml and deploy');
      expect(missing.stderr).toContain(`Started 0 rotations for tenant ${tenant}; 1 could not be started`);

      await declaredKey('plain', { rotation: false });
      const plain = await keyroll(['rotate', '--tenant', tenant, '--key', 'plain']);
      expect(plain.status).toBe(1);
      expect(plain.stderr).toContain('failed: ROTATION_NOT_CONFIGURED: Key');
      expect(plain.stderr).toContain('Declare `rotation: { everyDays, graceMinutes }` for it in keys.yaml and deploy');

      const none = await keyroll(['rotate', '--tenant', `${tenant}-none`, '--all']);
      expect(none.status).toBe(1);
      expect(none.stderr).toContain(`keyroll: NO_ROTATION_CONFIGURED: Tenant ${tenant}-none has no declared key with rotation configured`);
    });

    it('a previous rotation that is not complete: the error points at status and the sweep, and no emergency is marked', async () => {
      const key = await declaredKey('stuck');
      // What a createSecret leaves until its finishSecret: AWSPENDING on a version that is not current.
      await sm.send(new PutSecretValueCommand({ SecretId: key.secretArn, ClientRequestToken: randomUUID(), SecretString: '{}', VersionStages: ['AWSPENDING'] }));
      const run = await keyroll(['rotate', '--tenant', tenant, '--key', 'stuck', '--emergency']);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`failed: ROTATION_IN_PROGRESS: The previous rotation of ${tenant}/stuck isn't complete`);
      expect(run.stderr).toContain(`\`keyroll rotation status --tenant ${tenant}\` shows where it stands`);
      expect(run.stderr).toContain('`keyroll rotation sweep` repairs a stuck one');
      expect((await records.get(tenant, 'stuck')).state.emergencyRequested).toBeUndefined();
    });

    it('usage: --key or --all, a real tenant', async () => {
      const neither = await keyroll(['rotate', '--tenant', tenant]);
      expect(neither.stderr).toContain(`keyroll: KEY_OR_ALL: Name the key to rotate with --key <name>, or rotate every declared key of ${tenant} with --all.`);
      const badTenant = await keyroll(['rotate', '--tenant', 'Not A Tenant', '--all']);
      expect(badTenant.stderr).toContain('keyroll: INVALID_TENANT:');
      expect([neither.status, badTenant.status]).toEqual([1, 1]);
    });
  });
});

describe("the commands npm start's guide prints", () => {
  it('work as printed from another terminal: they find the running keyroll start and its emulator through the run file', async () => {
    await putSpec('acme', 'telemetry-ingest');
    const runDir = path.join(scratch, 'run');
    fs.mkdirSync(runDir);
    // As `keyroll start` leaves it while it runs (this process stands in for it: it is alive).
    fs.writeFileSync(path.join(runDir, 'start.json'), JSON.stringify({ pid: process.pid, url: harness.url, emulatorEndpoint: endpoint, startedAt: new Date().toISOString() }));
    const env = { KEYROLL_RUN_DIR: runDir, AWS_ENDPOINT_URL: '', KEYROLL_KEYS_FILE: '' };
    const printed = startGuide({ url: harness.url, port: 8787, emulatorEndpoint: endpoint, environment: 'production', tenant: 'acme', deployed: true, otherPort: 8788, stateDir: scratch });
    const args = (line: string) => line.replace(/\s+# .*$/, '').trim().split(/\s+/).slice(2);
    const statusLine = printed.find((line) => line.includes('keyroll rotation status'))!;
    expect(args(statusLine)).toEqual(['rotation', 'status']);

    // The tenant comes from stacks/keys.yaml (acme), as in the guide.
    const status = await keyroll(args(statusLine), env);
    expect(status.stderr).toContain(`Tenant acme on local AWS at ${endpoint} (the running keyroll start, pid ${process.pid}):`);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^telemetry-ingest\s+idle/m);

    // `rotate --tenant acme --all` would rotate every acme secret on this shared emulator: the same lookup, on a key of this file.
    expect(printed.some((line) => line.startsWith('  npx keyroll rotate --tenant acme --all '))).toBe(true);
    const rotate = await keyroll(['rotate', '--tenant', tenant, '--key', 'nowhere'], env);
    expect(rotate.stderr).toContain(`there is no secret keyroll/${tenant}/nowhere on local AWS at ${endpoint} (the running keyroll start, pid ${process.pid})`);
  });
});

describe('keyroll keys regenerate on a declared key', () => {
  it('says a rotation started and how to watch it, and prints no key', async () => {
    const key = await declaredKey('regenerated');
    const run = await keyroll(['keys', 'regenerate', key.id, '--tenant', tenant]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^Key ${key.id} is declared \\(${tenant}/regenerated in keys.yaml\\), so regenerating it started a rotation instead \\(Secrets Manager version ([\\w-]+)\\)`));
    expect(run.stderr).toContain(`Watch it with \`keyroll rotation status --tenant ${tenant}\`.`);
    expect(run.stderr).not.toMatch(KEY_PATTERN_GLOBAL);
    const versionId = /Secrets Manager version ([\w-]+)/.exec(run.stderr)![1];
    await waitForRotationEvent(endpoint, { secretId: key.secretArn, versionId, eventName: 'RotationSucceeded' });

    const json = await keyroll(['keys', 'regenerate', key.id, '--tenant', tenant, '--json']);
    expect(json.status).toBe(0);
    const answer = JSON.parse(json.stdout) as { rotation: { versionId: string; state: string } };
    expect(answer.rotation).toMatchObject({ keyId: key.id, name: 'regenerated', state: 'rotating' });
    await waitForRotationEvent(endpoint, { secretId: key.secretArn, versionId: answer.rotation.versionId, eventName: 'RotationSucceeded' });
  });
});
