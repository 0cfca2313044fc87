/**
 * The provisioner holds the key's lease (the rotation record's, lambda/rotate/rotation-record.ts)
 * for every apply and delete, against the emulator: a deploy waits out a rotation step holding it,
 * fails with KEY_BUSY (having changed nothing) when it stays taken, and two deploys of one key run
 * one after the other.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { ProvisionError } from '../../lambda/provision/errors';
import { RotationRecordStore } from '../../lambda/rotate/rotation-record';
import { rotationItemKey } from '../../lambda/tables/table-layout';
import { uniqueName } from '../local-aws/fixtures';
import { createProvisionFixture, events, inlineRule, inputOf, type ProvisionFixture, specOf } from './provision-fixture';

let fx: ProvisionFixture;
let records: RotationRecordStore;
beforeAll(async () => {
  fx = await createProvisionFixture();
  records = new RotationRecordStore(fx.documentClient, fx.keysTable);
});
afterAll(() => fx.destroy());
afterEach(() => {
  expect(fx.logLines.join('\n')).not.toMatch(KEY_PATTERN);
});

const uniqueTenant = (prefix: string) => uniqueName(prefix).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
const ROTATION = 'rotation:test-step';

async function declared() {
  const spec = specOf({ tenant: uniqueTenant('lease'), consumers: [inlineRule()] });
  await fx.putSpec(spec);
  return { spec, input: inputOf(spec, await fx.createSecret()) };
}

async function leaseItem(tenant: string, name: string) {
  return (await fx.documentClient.send(new GetCommand({ TableName: fx.keysTable, Key: rotationItemKey(tenant, name), ConsistentRead: true }))).Item;
}

/** Whether `promise` settled within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
}

describe('a deploy while a rotation step holds the lease', () => {
  it('waits for the lease, changing nothing meanwhile, then applies once it is released', async () => {
    const { spec, input } = await declared();
    await records.acquire(spec.tenant, spec.name, ROTATION, 60_000);

    const applying = fx.provisioner().handle(events.create(input));

    expect(await settlesWithin(applying, 700)).toBe(false);
    expect(await fx.readSecret(input.secretArn)).toBeUndefined();
    expect(await fx.manager.list(spec.tenant)).toEqual([]);
    await records.release(spec.tenant, spec.name, ROTATION);
    const result = await applying;

    const secret = (await fx.readSecret(input.secretArn))!;
    expect(secret.keyId).toBe(result.keyId);
    expect(await fx.verify(secret.apiKey, 'production')).toMatchObject({ ok: true });
    expect(fx.logLines.join('\n')).toMatch(new RegExp(`waiting for the key's lease.*${ROTATION}`));
  });

  it('fails with KEY_BUSY when the lease is never released, having issued nothing', async () => {
    const { spec, input } = await declared();
    await records.acquire(spec.tenant, spec.name, ROTATION, 60_000);

    const error = await fx.provisioner({ leaseWaitMs: 600 }).handle(events.create(input)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProvisionError);
    expect(error).toMatchObject({ code: 'KEY_BUSY' });
    expect((error as Error).message).toMatch(
      new RegExp(`Key \`${spec.name}\` of tenant \`${spec.tenant}\` is busy: a rotation or another deploy of the key is under way \\(${ROTATION} holds its lease until .*Re-run the apply`),
    );
    expect(await fx.manager.list(spec.tenant)).toEqual([]);
    expect(await fx.readSecret(input.secretArn)).toBeUndefined();
    expect(await fx.getRule(spec.consumers[0].type === 'iot-rule-inline' ? spec.consumers[0].ruleName : '')).toBeUndefined();
    // The rotation's lease is untouched.
    expect(await leaseItem(spec.tenant, spec.name)).toMatchObject({ leaseOwner: ROTATION });
    await records.release(spec.tenant, spec.name, ROTATION);
  });

  it('fails a delete with KEY_BUSY too, leaving the key working', async () => {
    const { spec, input } = await declared();
    const { keyId } = await fx.provisioner().handle(events.create(input));
    await records.acquire(spec.tenant, spec.name, ROTATION, 60_000);

    const error = await fx.provisioner({ leaseWaitMs: 300 }).handle(events.delete(input)).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'KEY_BUSY' });
    expect((await fx.manager.get(spec.tenant, keyId)).revokedAt).toBeUndefined();
    await records.release(spec.tenant, spec.name, ROTATION);
    await fx.provisioner().handle(events.delete(input));
    expect((await fx.manager.get(spec.tenant, keyId)).revokedAt).toBeDefined();
  });

  it('takes a lease whose holder died once it expires', async () => {
    const { spec, input } = await declared();
    await records.acquire(spec.tenant, spec.name, 'rotation:crashed', 300);

    const result = await fx.provisioner().handle(events.create(input));

    expect((await fx.readSecret(input.secretArn))!.keyId).toBe(result.keyId);
  });
});

describe('the provisioner as a lease holder', () => {
  it('holds the lease as provisioner:<request id> while it works, and gives it back after success and failure', async () => {
    const { spec, input } = await declared();
    const holders: unknown[] = [];
    const secrets = new SecretsManagerClient({});
    secrets.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutSecretValueCommand') holders.push((await leaseItem(spec.tenant, spec.name))?.leaseOwner);
        return next(args);
      },
      { step: 'initialize', name: 'readLeaseHolder' },
    );
    try {
      await fx.provisioner({ secrets }).handle(events.create(input), 'request-1');
    } finally {
      secrets.destroy();
    }
    expect(holders).toEqual(['provisioner:request-1']);
    expect(await leaseItem(spec.tenant, spec.name)).not.toHaveProperty('leaseOwner');

    await fx.deleteSpec(spec.tenant, spec.name);
    await expect(fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input))).rejects.toMatchObject({ code: 'SPEC_NOT_FOUND' });
    expect(await leaseItem(spec.tenant, spec.name)).not.toHaveProperty('leaseOwner');
  });

  it('runs two applies of one key one after the other: the second adopts the first one\'s key', async () => {
    const { spec, input } = await declared();
    fx.logLines.length = 0;

    const [first, second] = await Promise.all([fx.provisioner().handle(events.create(input)), fx.provisioner().handle(events.create(input))]);

    expect(second.keyId).toBe(first.keyId);
    expect((await fx.manager.list(spec.tenant)).map((key) => key.id)).toEqual([first.keyId]);
    expect(fx.logLines.join('\n')).toMatch(/waiting for the key's lease.*provisioner:/);
  });
});
