/**
 * The rules engine's fleet of nodes, each caching get_secret values for KEYROLL_IOT_SECRET_CACHE_SECONDS:
 * after the secret changes, old and new keys arrive interleaved until every node's copy expires, as on AWS.
 * Runs its own emulator with a short cache, since the shared one keeps AWS's 15 minutes.
 */
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { type LocalAws, LocalAwsError, startLocalAws } from '../../lambda/local-aws';
import {
  apiKeySecret,
  createRule,
  type DeliveryRecord,
  ENGINE_NODES,
  enabledDestination,
  getSecretHeader,
  type IotClients,
  iotClients,
  publish,
  readerRole,
  TargetServer,
  uniqueTopicRoot,
  waitForDeliveries,
} from './iot-fixtures';

const CACHE_SECONDS = 3;
let aws: LocalAws;
let clients: IotClients;
let target: TargetServer;

beforeAll(async () => {
  aws = await startLocalAws({ quiet: true, iotSecretCacheSeconds: CACHE_SECONDS });
  clients = iotClients({ endpoint: aws.endpoint, region: 'us-east-1' });
  target = await TargetServer.start();
  await enabledDestination(clients, target, '/v1/');
});
afterAll(async () => {
  await target?.stop();
  clients?.destroy();
  await aws?.stop();
});

const sleepUntil = (epochMs: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));

describe('happy path', () => {
  it('keeps sending the old key from each node until its cached copy expires, then every node sends the new one', async () => {
    const root = uniqueTopicRoot();
    const secretArn = await apiKeySecret(clients, 'kr_test_old');
    const roleArn = await readerRole(clients, secretArn);
    const rule = await createRule(clients, {
      sql: `SELECT topic(2) AS message FROM '${root}/+'`,
      actions: [{ http: { url: target.url('/v1/readings'), confirmationUrl: target.url('/v1/'), headers: [{ key: 'x-api-key', value: getSecretHeader(secretArn, roleArn) }] } }],
    });
    let sent = 0;
    /** Publishes `count` messages and returns, per message, the node that ran it and the key it sent. */
    const round = async (count: number): Promise<Array<{ node: number; key: string; at: number }>> => {
      const names = Array.from({ length: count }, () => `m${(sent += 1)}`);
      for (const name of names) await publish(clients, `${root}/${name}`, {});
      const records = await waitForDeliveries(aws.endpoint, rule, sent);
      await target.waitFor(() => target.to('/v1/readings').length === sent, `${sent} readings`);
      return names.map((name) => {
        const record = records.find((r) => r.topic === `${root}/${name}`) as DeliveryRecord;
        const reading = target.to('/v1/readings').find((r) => JSON.parse(r.body).message === name)!;
        return { node: record.node, key: String(reading.headers['x-api-key']), at: Date.parse(record.at) };
      });
    };

    // Node 0 reads the secret first; nodes 1-3 read it 1.5 s later.
    const [first] = await round(1);
    await sleepUntil(first.at + 1500);
    const others = await round(ENGINE_NODES - 1);
    expect([first, ...others].map((r) => r.node)).toEqual([0, 1, 2, 3]);
    await clients.secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify({ apiKey: 'kr_test_new' }) }));

    // Right after the change, every node still has the old key cached.
    expect((await round(ENGINE_NODES)).map((r) => r.key)).toEqual(Array(ENGINE_NODES).fill('kr_test_old'));

    // Once node 0's copy has expired, it sends the new key while the others still send the old one.
    await sleepUntil(first.at + CACHE_SECONDS * 1000 + 300);
    const mixed = await round(ENGINE_NODES);
    expect(Object.fromEntries(mixed.map((r) => [r.node, r.key]))).toEqual({ 0: 'kr_test_new', 1: 'kr_test_old', 2: 'kr_test_old', 3: 'kr_test_old' });

    // Within the cache TTL of the last read, every node has picked up the new key.
    await sleepUntil(Math.max(...others.map((r) => r.at)) + CACHE_SECONDS * 1000 + 300);
    const after = await round(ENGINE_NODES);
    expect(new Set(after.map((r) => r.node))).toEqual(new Set([0, 1, 2, 3]));
    expect(after.map((r) => r.key)).toEqual(Array(ENGINE_NODES).fill('kr_test_new'));
  });
});

describe('errors', () => {
  it('refuses a negative or non-numeric cache time, from the option and from the environment', async () => {
    await expect(startLocalAws({ quiet: true, iotSecretCacheSeconds: -1 })).rejects.toBeInstanceOf(RangeError);

    const saved = process.env.KEYROLL_IOT_SECRET_CACHE_SECONDS;
    process.env.KEYROLL_IOT_SECRET_CACHE_SECONDS = 'soon';
    try {
      const started = startLocalAws({ quiet: true });
      await expect(started).rejects.toBeInstanceOf(LocalAwsError);
      await expect(started).rejects.toMatchObject({ code: 'INVALID_SETTING', message: expect.stringContaining("KEYROLL_IOT_SECRET_CACHE_SECONDS must be a number of seconds, 0 or more (default 900); got 'soon'") });
    } finally {
      if (saved === undefined) delete process.env.KEYROLL_IOT_SECRET_CACHE_SECONDS;
      else process.env.KEYROLL_IOT_SECRET_CACHE_SECONDS = saved;
    }
  });
});
