/**
 * Two applies of one declared key at once (pipelines deploy concurrently), against the emulator.
 * The key's lease keeps them apart (see key-lease.test.ts); these cover a run that outlives its
 * lease (a Lambda frozen past it), where the record's version check is what keeps keys from being
 * lost: one run's record write is held until the other run has finished, at each of the points
 * where a run writes its record. Whatever the interleaving, every key the provisioner issued for
 * the declaration ends up either in the secret or revoked.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { ProvisionError } from '../../lambda/provision/errors';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { uniqueName } from '../local-aws/fixtures';
import { createProvisionFixture, events, inlineRule, inputOf, type ProvisionFixture, specOf } from './provision-fixture';

let fx: ProvisionFixture;
beforeAll(async () => {
  fx = await createProvisionFixture();
});
afterAll(() => fx.destroy());
afterEach(() => {
  expect(fx.logLines.join('\n')).not.toMatch(KEY_PATTERN);
});

const uniqueTenant = (prefix: string) => uniqueName(prefix).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);

/** A keys-table client whose `nth` write of a provisioner record waits until `release()`. */
function clientHoldingRecordWrite(nth: number) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reached: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (reached = resolve));
  let writes = 0;
  const client = new DynamoDBClient({});
  client.middlewareStack.add(
    (next, context) => async (args) => {
      // At this step the document client's input is not marshalled yet: `pk` is a plain string.
      const item = (args.input as { Item?: { pk?: unknown } }).Item;
      const recordWrite = context.commandName === 'PutItemCommand' && String(item?.pk).startsWith('PROVISIONED#');
      if (recordWrite && ++writes === nth) {
        reached();
        await gate;
      }
      return next(args);
    },
    { step: 'initialize', name: 'holdRecordWrite' },
  );
  return { documentClient: createDocumentClient({ client }), held, release: () => release(), destroy: () => client.destroy() };
}

describe.each([
  // Held before it issued anything: the other run's key stands, this run issued none.
  { write: 1, when: 'before issuing its key', issuedKeys: 1 },
  // Held after issuing, before handing the key out: the other run revoked it as a dead run's key.
  { write: 2, when: 'after issuing its key, before handing it out', issuedKeys: 2 },
  // Held after handing its key out: the other run found it in the secret and adopted it.
  { write: 3, when: 'after handing its key out', issuedKeys: 1 },
])('a run held at record write $write ($when) while another apply of the key runs', ({ write, issuedKeys }) => {
  it('fails with CONCURRENT_APPLY and leaves every issued key in the secret or revoked', async () => {
    const spec = specOf({ tenant: uniqueTenant('race'), consumers: [inlineRule()] });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    const holding = clientHoldingRecordWrite(write);

    try {
      // Its lease expires at once, as if the run had been frozen past it.
      const first = fx.provisioner({ documentClient: holding.documentClient, leaseMs: 1 }).handle(events.create(input));
      const firstOutcome = first.then(
        () => undefined,
        (error: unknown) => error,
      );
      await Promise.race([
        holding.held,
        first.then(() => {
          throw new Error(`the run finished without reaching record write ${write}`);
        }),
      ]);
      const second = await fx.provisioner().handle(events.create(input));
      holding.release();
      const error = await firstOutcome;

      // The invariant: no valid key but the one in the secret.
      const secret = (await fx.readSecret(input.secretArn))!;
      const issued = (await fx.store.listKeys(spec.tenant)).filter((key) => key.name === spec.name);
      for (const key of issued) {
        if (key.id !== secret.keyId) expect({ id: key.id, revoked: Boolean(key.revokedAt) }).toEqual({ id: key.id, revoked: true });
      }
      expect(issued).toHaveLength(issuedKeys);
      expect(await fx.verify(secret.apiKey, 'production')).toMatchObject({ ok: true, key: { id: secret.keyId } });
      expect(secret.keyId).toBe(second.keyId);
      expect(await fx.readRecord(spec.tenant, spec.name)).toMatchObject({ keyId: secret.keyId });
      expect(await fx.readRecord(spec.tenant, spec.name)).not.toHaveProperty('pendingKeyId');

      expect(error).toBeInstanceOf(ProvisionError);
      expect(error).toMatchObject({ code: 'CONCURRENT_APPLY' });
      expect((error as Error).message).toMatch(/Another apply of key `[^`]+` of tenant `[^`]+` is running.*Re-run this apply after the other one finishes/);
      expect((error as Error).message).not.toMatch(KEY_PATTERN);

      // As the message says: re-running after the other apply finished converges on one key.
      const rerun = await fx.provisioner().handle(events.create(input));
      const after = (await fx.store.listKeys(spec.tenant)).filter((key) => key.name === spec.name && !key.revokedAt);
      expect(after.map((key) => key.id)).toEqual([rerun.keyId]);
      expect((await fx.readSecret(input.secretArn))!.keyId).toBe(rerun.keyId);
    } finally {
      holding.release();
      holding.destroy();
    }
  });
});

describe('a record write whose answer is lost', () => {
  it('is retried by the SDK and recognised as its own, not taken for a concurrent apply', async () => {
    const spec = specOf({ tenant: uniqueTenant('lost-answer') });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    let lost = 0;
    const client = new DynamoDBClient({ maxAttempts: 3 });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const item = (args.input as { Item?: { pk?: { S?: string } } }).Item;
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        // Every record write lands, and the answer to its first attempt never arrives.
        if (context.commandName === 'PutItemCommand' && item?.pk?.S?.startsWith('PROVISIONED#') && headers['amz-sdk-request']?.startsWith('attempt=1')) {
          lost += 1;
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return result;
      },
      // deserialize: inside the SDK's retry loop, where the input is already marshalled.
      { step: 'deserialize', name: 'loseRecordAnswers' },
    );
    try {
      const result = await fx.provisioner({ documentClient: createDocumentClient({ client }) }).handle(events.create(input));

      expect(lost).toBe(3);
      expect(await fx.readRecord(spec.tenant, spec.name)).toMatchObject({ keyId: result.keyId, version: 3 });
      expect((await fx.readSecret(input.secretArn))!.keyId).toBe(result.keyId);
    } finally {
      client.destroy();
    }
  });
});
