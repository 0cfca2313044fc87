/**
 * `POST …/regenerate` on a declared key starts a Secrets Manager rotation instead of handing out a
 * credential its consumers would never get. Against real secrets on the emulator. The emulator's
 * own rotation is not run here (a rotation Lambda and its steps are tested with it); where the
 * answer needs a secret whose rotation a deploy configured, SDK middleware on the service's client
 * says so in DescribeSecret's answer, and answers RotateSecret, recording what the service sent.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  type RotateSecretCommandInput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import type { DeclaredKey } from '../../lambda/keys/key-record';
import { uniqueName } from '../local-aws/fixtures';
import { type Harness, startHarness } from '../support/service-harness';

const ROTATION_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:keyroll-rotation';

/** The service's Secrets Manager client, to the emulator, with the two stand-ins described above. */
function secretsClient() {
  const state = { rotationConfigured: false, rotateError: undefined as Error | undefined, rotations: [] as RotateSecretCommandInput[] };
  const client = new SecretsManagerClient({});
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'RotateSecretCommand') {
        const input = args.input as RotateSecretCommandInput;
        state.rotations.push({ ...input });
        if (state.rotateError) throw state.rotateError;
        return { output: { $metadata: {}, ARN: input.SecretId, Name: 'stand-in', VersionId: randomUUID() }, response: {} } as never;
      }
      const result = await next(args);
      if (context.commandName === 'DescribeSecretCommand' && state.rotationConfigured) {
        Object.assign(result.output as object, { RotationEnabled: true, RotationLambdaARN: ROTATION_FUNCTION });
      }
      return result;
    },
    { step: 'initialize', name: 'rotationStandIns' },
  );
  return { client, state };
}

const sm = new SecretsManagerClient({});
let harness: Harness;
let admin: string;
let secrets: ReturnType<typeof secretsClient>;
const base = '/v1/tenants/acme/api-keys';

beforeAll(async () => {
  secrets = secretsClient();
  harness = await startHarness({ service: { secrets: secrets.client } });
  admin = (await harness.issue('acme', { permissions: ['*'] })).key;
});
afterAll(() => harness.stop());
beforeEach(() => {
  Object.assign(secrets.state, { rotationConfigured: false, rotateError: undefined, rotations: [] });
});

/** A declared key as the provisioner issues it: a tagged `keyroll/acme/<name>` secret, then the key, then the key in the secret. */
async function declaredKey(permissions = ['telemetry:write'], consumers?: number) {
  const name = uniqueName('sensors').toLowerCase();
  const { ARN } = await sm.send(new CreateSecretCommand({ Name: `keyroll/acme/${name}`, Tags: [{ Key: 'keyroll:key', Value: `acme/${name}` }] }));
  const declared: DeclaredKey = { secretArn: ARN!, name, ...(consumers !== undefined ? { consumers } : {}) };
  const { record, key } = await harness.manager.create('acme', { name, environment: 'production', permissions }, undefined, { declared });
  await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: JSON.stringify({ apiKey: key, keyId: record.id }) }));
  return { id: record.id, key, declared };
}

const regenerate = (id: string, body?: unknown, key = admin) => harness.call('POST', `${base}/${id}/regenerate`, { key, ...(body ? { body } : {}) });
const secretValue = async (arn: string) => (await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;

describe('happy path', () => {
  it('starts a rotation through RotateSecret on the declared secret and answers 202 with its status, no credential', async () => {
    const { id, key, declared } = await declaredKey();
    secrets.state.rotationConfigured = true;
    const before = await harness.manager.get('acme', id);

    const response = await regenerate(id);

    expect(response.status).toBe(202);
    expect(response.body).toEqual({ rotation: { keyId: id, name: declared.name, secretArn: declared.secretArn, versionId: expect.any(String), state: 'rotating', phase: 'rotating' } });
    expect(response.text.match(KEY_PATTERN_GLOBAL)).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
    // SecretId alone: the secret's own function and schedule, as deployed; nothing reconfigured.
    expect(secrets.state.rotations).toHaveLength(1);
    expect(secrets.state.rotations[0]).toEqual({ SecretId: declared.secretArn });
    // The key itself is the rotation's to change: nothing was regenerated here.
    expect((await harness.manager.get('acme', id)).version).toBe(before.version);
    expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
  });

  it('rotates a key issued before keys carried `declared`, once the provisioner has marked it', async () => {
    const { id, declared } = await declaredKey();
    secrets.state.rotationConfigured = true;
    const { record: older } = await harness.manager.create('acme', { name: 'older', environment: 'production', permissions: ['telemetry:write'] });
    await harness.manager.markDeclared('acme', older.id, declared);
    const marked = await harness.manager.markDeclared('acme', older.id, declared); // idempotent
    expect(marked.version).toBe(older.version + 1);
    expect((await regenerate(older.id)).status).toBe(202);
    expect(secrets.state.rotations).toEqual([{ SecretId: declared.secretArn }]);
    expect(id).not.toBe(older.id);
  });

  it('shows a declared key as declared, and regenerates a key that is not declared as before', async () => {
    const { id, declared } = await declaredKey();
    expect((await harness.call('GET', `${base}/${id}`, { key: admin })).body.declared).toEqual({ name: declared.name, secretArn: declared.secretArn });
    const plain = await harness.issue('acme', { permissions: ['telemetry:write'] });
    const regenerated = await regenerate(plain.id);
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.key).toMatch(/^kr_live_/);
    expect(regenerated.body.declared).toBeNull();
    expect(secrets.state.rotations).toEqual([]);
  });
});

describe('a declared key without consumers', () => {
  // The issue's declared key is "one that has a spec and consumers": with nobody to move, a
  // regenerate is an ordinary one (the secret catches up at the next deploy).
  it('is regenerated like an API key: 200 with the new credential, no rotation', async () => {
    const { id, key } = await declaredKey(['telemetry:write'], 0);
    secrets.state.rotationConfigured = true;
    const regenerated = await regenerate(id);
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.key).toMatch(/^kr_live_/);
    expect(regenerated.body.key).not.toBe(key);
    expect(regenerated.body.declared).toMatchObject({ consumers: 0 });
    expect(secrets.state.rotations).toEqual([]);
  });

  it('with consumers, or a count from before counts were kept, is rotated', async () => {
    const { id } = await declaredKey(['telemetry:write'], 2);
    secrets.state.rotationConfigured = true;
    expect((await regenerate(id)).status).toBe(202);
  });
});

describe('errors', () => {
  it('answers 409 ROTATION_NOT_CONFIGURED with the fix for a real secret without rotation, and leaves the secret alone', async () => {
    const { id, key, declared } = await declaredKey();
    const valueBefore = await secretValue(declared.secretArn);
    const versionsBefore = (await sm.send(new DescribeSecretCommand({ SecretId: declared.secretArn }))).VersionIdsToStages;

    const response = await regenerate(id);

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('ROTATION_NOT_CONFIGURED');
    expect(response.body.error.message).toContain(`declare \`rotation: {everyDays, graceMinutes}\` for \`${declared.name}\` in keys.yaml and deploy`);
    expect(response.body.error.message).toContain('has no rotation configured');
    // Never asked to "rotate" a secret with no function: the emulator would promote an empty version.
    expect(secrets.state.rotations).toEqual([]);
    expect(await secretValue(declared.secretArn)).toBe(valueBefore);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: declared.secretArn }))).VersionIdsToStages).toEqual(versionsBefore);
    expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
  });

  it('answers 409 ROTATION_NOT_CONFIGURED when the declared secret is gone', async () => {
    const { id, declared } = await declaredKey();
    await sm.send(new DeleteSecretCommand({ SecretId: declared.secretArn, ForceDeleteWithoutRecovery: true }));
    const response = await regenerate(id);
    expect(response.status).toBe(409);
    expect(response.body.error).toEqual({ code: 'ROTATION_NOT_CONFIGURED', message: expect.stringContaining('does not exist') });
  });

  it('answers 409 ROTATION_IN_PROGRESS when the secret has an AWSPENDING version that is not current', async () => {
    const { id, declared } = await declaredKey();
    secrets.state.rotationConfigured = true;
    const token = randomUUID();
    // What a rotation's createSecret leaves until its finishSecret.
    await sm.send(new PutSecretValueCommand({ SecretId: declared.secretArn, ClientRequestToken: token, SecretString: '{"apiKey":"pending"}', VersionStages: ['AWSPENDING'] }));

    const response = await regenerate(id);

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('ROTATION_IN_PROGRESS');
    expect(response.body.error.message).toContain(token);
    expect(response.body.error.message).toContain('keyroll rotation status');
    expect(secrets.state.rotations).toEqual([]);
  });

  it('answers 409 ROTATION_IN_PROGRESS when Secrets Manager refuses because a previous rotation is not complete', async () => {
    const { id } = await declaredKey();
    secrets.state.rotationConfigured = true;
    secrets.state.rotateError = new InvalidRequestException({ message: "A previous rotation isn't complete. That rotation will be reattempted.", $metadata: {} });
    const response = await regenerate(id);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('ROTATION_IN_PROGRESS');
    expect(secrets.state.rotations).toHaveLength(1);
  });

  it('refuses graceSeconds on a declared key, naming the field: the rotation\'s grace is declared', async () => {
    const { id } = await declaredKey();
    secrets.state.rotationConfigured = true;
    const response = await regenerate(id, { graceSeconds: 60 });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.message).toMatch(/^`body.graceSeconds` does not apply to a declared key .*rotation.graceMinutes/);
    expect(secrets.state.rotations).toEqual([]);
  });

  it('answers KEY_REVOKED for a revoked declared key', async () => {
    const { id } = await declaredKey();
    secrets.state.rotationConfigured = true;
    await harness.manager.revoke('acme', id);
    const response = await regenerate(id);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('KEY_REVOKED');
    expect(secrets.state.rotations).toEqual([]);
  });
});

describe('security', () => {
  it('holds the management rules: a manager lacking a permission of the key, another tenant', async () => {
    const { id } = await declaredKey(['telemetry:write', 'billing:read']);
    secrets.state.rotationConfigured = true;
    const narrow = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
    const stronger = await regenerate(id, undefined, narrow);
    expect(stronger.status).toBe(403);
    expect(stronger.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');

    const other = (await harness.issue('globex', { permissions: ['*'] })).key;
    const foreign = await harness.call('POST', `${base}/${id}/regenerate`, { key: other });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('FORBIDDEN');
    expect(secrets.state.rotations).toEqual([]);
  });

  it('cannot be declared through the API: `declared` is not a field of create or update', async () => {
    const created = await harness.call('POST', base, {
      key: admin,
      body: { name: 'x', environment: 'production', permissions: ['telemetry:write'], declared: { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:keyroll/acme/x', name: 'x' } },
    });
    expect(created.status).toBe(400);
    const { id } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    const patched = await harness.call('PATCH', `${base}/${id}`, { key: admin, body: { declared: { secretArn: 'arn:x', name: 'x' } } });
    expect(patched.status).toBe(400);
    expect((await harness.manager.get('acme', id)).declared).toBeUndefined();
  });
});
