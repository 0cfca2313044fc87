/**
 * The verifier's cache and concurrency rules, with a scripted store: each read is a promise the
 * test settles, so the interleavings that matter can be forced. (HTTP tests run it against DynamoDB.)
 */
import { generateKey } from '../keys/key-format';
import type { ApiKeyRecord } from '../keys/key-record';
import { addPendingCredential, createRecord, promotePendingCredential, revoke } from '../keys/key-transitions';
import { hashCredential } from '../keys/credential-hash';
import { KeyVerifier, MAX_READS_PER_VERIFICATION } from './key-verifier';

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

  it('re-reads when the hash being read is forgotten, e.g. a key created here that was probed just before', async () => {
    const store = scriptedStore();
    const verifier = new KeyVerifier({ store, environment: 'production', clock });
    const pending = verifier.verify(key);
    verifier.forgetSecretHash(hashCredential(key));
    store.reads[0].settle(undefined); // read before the key existed
    await flush();
    expect(store.reads).toHaveLength(2);
    store.reads[1].settle(record);
    expect(await pending).toMatchObject({ ok: true });
  });
});

describe('KeyVerifier invalidation is per key', () => {
  const key = generateKey('production');
  const record = createRecord('tenant-b', { name: 'b', environment: 'production', permissions: ['telemetry:write'] }, key, new Date(now));
  const other = createRecord('tenant-a', { name: 'a', environment: 'production', permissions: ['telemetry:write'] }, generateKey('production'), new Date(now));

  it("does not re-read when other keys change while the read is out, however often", async () => {
    const store = scriptedStore();
    const verifier = new KeyVerifier({ store, environment: 'production', clock });
    const pending = verifier.verify(key);
    for (let i = 0; i < 50; i++) {
      // What the key manager does on every change of tenant A's key.
      verifier.forgetKey(other.id);
      verifier.forgetSecretHash(other.credentialHash);
    }
    store.reads[0].settle(record);
    expect(await pending).toMatchObject({ ok: true, key: record });
    expect(store.reads).toHaveLength(1);
    expect(verifier.verify(key)).toMatchObject({ ok: true }); // cached: the answer was trusted
  });

  it('gives up after a bounded number of reads while the key keeps changing, serving nothing stale', async () => {
    const store = scriptedStore();
    const verifier = new KeyVerifier({ store, environment: 'production', clock });
    const pending = Promise.resolve(verifier.verify(key)).catch((error) => error);
    for (let read = 0; read < MAX_READS_PER_VERIFICATION; read++) {
      expect(store.reads).toHaveLength(read + 1);
      verifier.forgetKey(record.id); // changed (e.g. revoked) here while each read was out
      store.reads[read].settle(record); // each answer predates the change
      await flush();
    }
    expect(store.reads).toHaveLength(MAX_READS_PER_VERIFICATION);
    expect(await pending).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, retryAfterSeconds: 1 });
    // Nothing was cached from the untrusted answers: the next request reads again.
    const next = verifier.verify(key);
    expect(next).toBeInstanceOf(Promise);
    expect(store.reads).toHaveLength(MAX_READS_PER_VERIFICATION + 1);
    store.reads.at(-1)!.settle(revoke(record, new Date(now)));
    expect(await next).toMatchObject({ ok: false, code: 'INVALID_API_KEY' });
  });
});

describe('KeyVerifier budget for unknown keys', () => {
  const key = generateKey('production');
  const record = createRecord('acme', { name: 'k', environment: 'production', permissions: ['telemetry:write'] }, key, new Date(now));

  /** A verifier on its own clock whose store answers at once: `record` for `key`, unknown for anything else. */
  function setup(budget: { ratePerSecond: number; burst: number }) {
    const clock = { now: Date.parse('2026-06-01T00:00:00Z') };
    const reads: string[] = [];
    const store = {
      findKeyBySecretHash: async (hash: string) => {
        reads.push(hash);
        return hash === record.credentialHash ? record : undefined;
      },
    };
    const verifier = new KeyVerifier({ store, environment: 'production', clock: () => clock.now, unknownKeyReads: budget });
    return { clock, reads, verifier };
  }

  /** Resolves to the verification's code, or the thrown error's code and Retry-After. */
  async function outcome(run: () => ReturnType<KeyVerifier['verify']>) {
    try {
      const verification = await run();
      return verification.ok ? 'VALID' : verification.code;
    } catch (error) {
      const { code, retryAfterSeconds } = error as { code: string; retryAfterSeconds?: number };
      return `${code} retry-after=${retryAfterSeconds}`;
    }
  }

  it('reads the store for at most burst + rate × elapsed unknown keys, refusing the rest without I/O', async () => {
    const { clock, reads, verifier } = setup({ ratePerSecond: 2, burst: 3 });
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(await outcome(() => verifier.verify(generateKey('production'))));
    expect(answers).toEqual([
      'INVALID_API_KEY',
      'INVALID_API_KEY',
      'INVALID_API_KEY',
      'SERVICE_UNAVAILABLE retry-after=1',
      'SERVICE_UNAVAILABLE retry-after=1',
    ]);
    expect(reads).toHaveLength(3);
    clock.now += 1000; // two more tokens
    for (let i = 0; i < 5; i++) await outcome(() => verifier.verify(generateKey('production')));
    expect(reads).toHaveLength(5);
  });

  it('keeps serving a cached known key, and refreshing it when stale, while the budget is spent', async () => {
    const { clock, reads, verifier } = setup({ ratePerSecond: 1, burst: 1 });
    expect(await outcome(() => verifier.verify(key))).toBe('VALID'); // spends the only token
    expect(await outcome(() => verifier.verify(generateKey('production')))).toMatch(/^SERVICE_UNAVAILABLE/);
    clock.now += 1500; // stale; and the refill is spent on another unknown key
    await outcome(() => verifier.verify(generateKey('production')));
    const readsBefore = reads.length;
    expect(verifier.verify(key)).toMatchObject({ ok: true }); // served synchronously, refresh started
    expect(reads).toHaveLength(readsBefore + 1);
    expect(reads.at(-1)).toBe(record.credentialHash);
    clock.now += 10_000; // expired, and the budget is full again: spend it before the known key asks
    await outcome(() => verifier.verify(generateKey('production')));
    expect(await outcome(() => verifier.verify(key))).toBe('VALID'); // waits for the store, uncharged
  });

  it('re-reads a key changed on this instance without charging the budget', async () => {
    const { reads, verifier } = setup({ ratePerSecond: 1, burst: 1 });
    expect(await outcome(() => verifier.verify(key))).toBe('VALID');
    verifier.forgetKey(record.id);
    verifier.forgetSecretHash(record.credentialHash);
    expect(await outcome(() => verifier.verify(key))).toBe('VALID');
    expect(reads).toEqual([record.credentialHash, record.credentialHash]);
  });

  it('lets requests for a hash already being read join that read, whatever the budget', async () => {
    const store = scriptedStore();
    const verifier = new KeyVerifier({ store, environment: 'production', clock, unknownKeyReads: { ratePerSecond: 1, burst: 1 } });
    const first = verifier.verify(key);
    const second = verifier.verify(key);
    expect(store.reads).toHaveLength(1);
    store.reads[0].settle(record);
    expect(await first).toMatchObject({ ok: true });
    expect(await second).toMatchObject({ ok: true });
  });

  it('keeps refusing a remembered unknown key while it cannot re-check it', async () => {
    const { clock, reads, verifier } = setup({ ratePerSecond: 1, burst: 1 });
    const madeUp = generateKey('production');
    expect(await outcome(() => verifier.verify(madeUp))).toBe('INVALID_API_KEY');
    clock.now += 1500; // stale; the refilled token goes to another key first
    await outcome(() => verifier.verify(generateKey('production')));
    expect(await outcome(() => verifier.verify(madeUp))).toBe('INVALID_API_KEY'); // served stale, no refresh
    expect(reads).toHaveLength(2);
  });

  it('reports refusals at most once a minute, with how many', async () => {
    const reported: number[] = [];
    const clock = { now: 0 };
    const verifier = new KeyVerifier({
      store: { findKeyBySecretHash: async () => undefined },
      environment: 'production',
      clock: () => clock.now,
      unknownKeyReads: { ratePerSecond: 0.001, burst: 1 },
      onUnknownKeysRefused: (refused) => reported.push(refused),
    });
    await outcome(() => verifier.verify(generateKey('production')));
    for (let i = 0; i < 10; i++) await outcome(() => verifier.verify(generateKey('production')));
    expect(reported).toEqual([1]);
    clock.now += 60_000;
    await outcome(() => verifier.verify(generateKey('production')));
    expect(reported).toEqual([1, 10]);
  });

  it('refuses a budget that is not a positive number, naming the option', () => {
    expect(() => new KeyVerifier({ store: scriptedStore(), environment: 'production', unknownKeyReads: { burst: 0 } })).toThrow(
      /unknownKeyReads\.burst must be a positive number/,
    );
  });

  it('tells which credential opened the key, pending and grace ones included, so usage is recorded per credential', async () => {
    const pendingKey = generateKey('production');
    const withPending = addPendingCredential(record, pendingKey, 'v1', new Date(now));
    const rotated = promotePendingCredential(withPending, 'v1', new Date(now + 60_000), new Date(now));
    const store = { findKeyBySecretHash: async () => rotated };
    const verifier = new KeyVerifier({ store, environment: 'production', clock });
    expect(await verifier.verify(pendingKey)).toMatchObject({ ok: true, credentialHash: hashCredential(pendingKey) });
    expect(await verifier.verify(key)).toMatchObject({ ok: true, credentialHash: hashCredential(key) });
    const pendingOnly = new KeyVerifier({ store: { findKeyBySecretHash: async () => withPending }, environment: 'production', clock });
    expect(await pendingOnly.verify(pendingKey)).toMatchObject({ ok: true, key: withPending, credentialHash: hashCredential(pendingKey) });
  });
});
