/**
 * The verifier's cache and concurrency rules, with a scripted store: each read is a promise the
 * test settles, so the interleavings that matter can be forced. (HTTP tests run it against DynamoDB.)
 */
import { generateKey } from '../keys/key-format';
import type { ApiKeyRecord } from '../keys/key-record';
import { createRecord, revoke } from '../keys/key-transitions';
import { KeyVerifier } from './key-verifier';

function scriptedStore() {
  const reads: { hash: string; settle: (record: ApiKeyRecord | undefined) => void }[] = [];
  return {
    reads,
    findKeyBySecretHash: (hash: string) => new Promise<ApiKeyRecord | undefined>((settle) => reads.push({ hash, settle })),
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
let now = Date.parse('2026-06-01T00:00:00Z');
const clock = () => now;

describe('KeyVerifier', () => {
  const key = generateKey('production');
  const record = createRecord('acme', { name: 'k', environment: 'production', permissions: ['telemetry:write'] }, key, new Date(now));

  it('answers warm requests synchronously and shares one store read between cold ones', async () => {
    const store = scriptedStore();
    const verifier = new KeyVerifier({ store, environment: 'production', clock });
    const first = verifier.verify(key);
    const second = verifier.verify(key);
    expect(store.reads).toHaveLength(1);
    store.reads[0].settle(record);
    expect(await first).toMatchObject({ ok: true });
    expect(await second).toMatchObject({ ok: true });
    expect(verifier.verify(key)).toMatchObject({ ok: true, key: record });
  });

  it('does not trust a read that was in flight when this instance changed the key', async () => {
    const store = scriptedStore();
    const verifier = new KeyVerifier({ store, environment: 'production', clock });
    const pending = verifier.verify(key);
    verifier.forgetKey(record.id); // e.g. revoked here while the read was out
    store.reads[0].settle(record); // the read returns the record as it was before
    await flush();
    expect(store.reads).toHaveLength(2);
    store.reads[1].settle(revoke(record, new Date(now)));
    expect(await pending).toMatchObject({ ok: false, code: 'INVALID_API_KEY' });
    expect(verifier.verify(key)).toMatchObject({ ok: false, code: 'INVALID_API_KEY' });
  });

  it('refreshes in the background after 1 s and stops serving after 5 s without the store', async () => {
    const store = scriptedStore();
    const verifier = new KeyVerifier({ store, environment: 'production', clock });
    const first = verifier.verify(key);
    store.reads[0].settle(record);
    await first;
    now += 1500;
    expect(verifier.verify(key)).toMatchObject({ ok: true }); // stale: served, refresh started
    expect(store.reads).toHaveLength(2);
    now += 4000;
    expect(verifier.verify(key)).toBeInstanceOf(Promise); // expired: waits for the store
  });

  it('keeps real keys cached however many unknown keys are tried', async () => {
    const store = scriptedStore();
    const verifier = new KeyVerifier({ store, environment: 'production', clock, cache: { maxEntries: 10, maxUnknown: 10 } });
    const first = verifier.verify(key);
    store.reads[0].settle(record);
    await first;
    for (let i = 0; i < 50; i++) {
      const attempt = verifier.verify(generateKey('production'));
      store.reads.at(-1)!.settle(undefined);
      await attempt;
    }
    const readsBefore = store.reads.length;
    expect(verifier.verify(key)).toMatchObject({ ok: true });
    expect(store.reads).toHaveLength(readsBefore);
  });
});
