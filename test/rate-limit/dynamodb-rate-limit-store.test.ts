/** DynamoDbRateLimitStore against DynamoDB on the emulator: grants, races between instances, hand-backs. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { counterItemKey, DynamoDbRateLimitStore, type RateLimitCounter } from '../../lambda/rate-limit';
import { createRateLimitTable, type InstanceClient, type RateLimitTable, sum } from './rate-limit-table';

let table: RateLimitTable;
const clients: InstanceClient[] = [];
let counterSeq = 0;

beforeAll(async () => {
  table = await createRateLimitTable();
});

afterAll(async () => {
  clients.forEach((client) => client.destroy());
  await table.drop();
});

function newStore(): DynamoDbRateLimitStore {
  const client = table.instanceClient();
  clients.push(client);
  return new DynamoDbRateLimitStore(client.documentClient, table.tableName);
}

/** A fresh counter per test: window 10 s in 10 slices, so a window constraint spans 11 slices. */
const newCounter = (): RateLimitCounter => ({ keyId: `key-${++counterSeq}`, windowSeconds: 10, slicesPerWindow: 10 });
const SLICE = 1_000_000;
const EXPIRES = Math.floor(Date.now() / 1000) + 3600;

describe('DynamoDbRateLimitStore.lease', () => {
  it('creates the counter on the first lease and lets other instances see its tokens', async () => {
    const counter = newCounter();
    const [a, b] = [newStore(), newStore()];
    const first = await a.lease({ counter, slice: SLICE, wanted: 6, limit: 10, expiresAtSeconds: EXPIRES });
    expect(first).toMatchObject({ granted: 6, contended: false });
    expect(first.state.counts.get(SLICE)).toBe(6);
    // b has never read the counter: its first write fails its condition and it learns the state from the failure.
    const second = await b.lease({ counter, slice: SLICE + 3, wanted: 6, limit: 10, expiresAtSeconds: EXPIRES });
    expect(second.granted).toBe(4);
    expect(await table.readSlices(counter)).toEqual(new Map([[SLICE, 6], [SLICE + 3, 4]]));
    const { Item } = await clients[0].documentClient.send(new GetCommand({ TableName: table.tableName, Key: counterItemKey(counter) }));
    expect(Item).toMatchObject({ version: 2, ttl: EXPIRES });
  });

  it('grants 0 when every window holding the slice is full, counting slices leased ahead', async () => {
    const store = newStore();
    const counter = newCounter();
    await store.lease({ counter, slice: SLICE + 1, wanted: 8, limit: 10, expiresAtSeconds: EXPIRES });
    const current = await store.lease({ counter, slice: SLICE, wanted: 5, limit: 10, expiresAtSeconds: EXPIRES });
    expect(current.granted).toBe(2);
    // Slice SLICE + 11 shares no window of 11 slices with SLICE but does with SLICE + 1.
    expect((await store.lease({ counter, slice: SLICE + 11, wanted: 5, limit: 10, expiresAtSeconds: EXPIRES })).granted).toBe(2);
    expect((await store.lease({ counter, slice: SLICE + 12, wanted: 5, limit: 10, expiresAtSeconds: EXPIRES })).granted).toBe(5);
  });

  it('never grants more than the limit when instances race with stale states', async () => {
    const counter = newCounter();
    const stores = [newStore(), newStore(), newStore()];
    const results = await Promise.all(
      Array.from({ length: 45 }, (_, i) => stores[i % 3].lease({ counter, slice: SLICE, wanted: 7, limit: 100, expiresAtSeconds: EXPIRES })),
    );
    const granted = sum(results.map((result) => result.granted));
    expect(granted).toBeLessThanOrEqual(100);
    expect(sum((await table.readSlices(counter)).values())).toBe(granted);
    // Losing races is retried, so most of the limit is handed out; the rest only to contention.
    const contended = results.filter((result) => result.contended).length;
    expect(granted + 7 * contended).toBeGreaterThanOrEqual(100);
  });

  it('drops slices two windows old while leasing', async () => {
    const store = newStore();
    const counter = newCounter();
    await store.lease({ counter, slice: SLICE, wanted: 3, limit: 10, expiresAtSeconds: EXPIRES });
    const result = await store.lease({ counter, slice: SLICE + 23, wanted: 3, limit: 10, expiresAtSeconds: EXPIRES });
    expect([...result.state.counts.keys()]).toEqual([SLICE + 23]);
    expect(await table.readSlices(counter)).toEqual(new Map([[SLICE + 23, 3]]));
  });
});

describe('DynamoDbRateLimitStore.release and record', () => {
  it('hands back unused tokens, but never below zero nor into a slice already dropped', async () => {
    const store = newStore();
    const counter = newCounter();
    await store.lease({ counter, slice: SLICE, wanted: 5, limit: 10, expiresAtSeconds: EXPIRES });
    await store.release(counter, SLICE, 2);
    await store.release(counter, SLICE, 9);
    await store.release(counter, SLICE + 5, 1);
    expect(await table.readSlices(counter)).toEqual(new Map([[SLICE, 3]]));
  });

  it('records admissions made without a lease, and a lease computed before them is recomputed', async () => {
    const [a, b] = [newStore(), newStore()];
    const counter = newCounter();
    const seen = await a.lease({ counter, slice: SLICE, wanted: 2, limit: 10, expiresAtSeconds: EXPIRES });
    await b.record(counter, SLICE, 7, EXPIRES);
    const next = await a.lease({ counter, slice: SLICE, wanted: 5, limit: 10, known: seen.state, expiresAtSeconds: EXPIRES });
    expect(next.granted).toBe(1);
    expect(await table.readSlices(counter)).toEqual(new Map([[SLICE, 10]]));
  });

  it('surfaces store failures to the caller', async () => {
    const client = table.instanceClient();
    clients.push(client);
    const store = new DynamoDbRateLimitStore(client.documentClient, table.tableName);
    client.faults.failing = true;
    await expect(store.lease({ counter: newCounter(), slice: SLICE, wanted: 1, limit: 10, expiresAtSeconds: EXPIRES })).rejects.toThrow(/Rate exceeded/);
  });
});
