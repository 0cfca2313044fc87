/** The recorder's bookkeeping, against a store double that shows what each flush sends. */
import type { UsageDelta } from '../store/key-store';
import { UsageRecorder } from './usage-recorder';

type Answer = 'ok' | 'fail' | 'hang';

/** Records every delta sent; `answers` says how each recordUsage call ends (default: all written). */
function storeDouble(answers: Answer[] = []) {
  const calls: { deltas: UsageDelta[]; signal?: AbortSignal; finish: (failed: UsageDelta[]) => void }[] = [];
  const store = {
    recordUsage: (deltas: readonly UsageDelta[], options: { abortSignal?: AbortSignal } = {}) =>
      new Promise<UsageDelta[]>((resolve) => {
        const answer = answers.shift() ?? 'ok';
        calls.push({ deltas: [...deltas], signal: options.abortSignal, finish: resolve });
        if (answer === 'ok') resolve([]);
        if (answer === 'fail') resolve([...deltas]);
      }),
  };
  return { store, calls };
}

describe('happy path', () => {
  it('sends one delta per key with the counts merged, and flushes only when due', async () => {
    let now = 1_000;
    const { store, calls } = storeDouble();
    const usage = new UsageRecorder({ store, autoFlush: false, flushIntervalMs: 1000, clock: () => now });
    usage.record('acme', 'key_a', false, 1_100);
    usage.record('acme', 'key_a', true, 1_050);
    usage.record('acme', 'key_b', false, 1_200);

    await usage.flushIfDue();
    expect(calls).toHaveLength(0);
    now = 2_000;
    await usage.flushIfDue();

    expect(calls).toHaveLength(1);
    expect(calls[0].deltas).toEqual([
      { id: expect.any(String), tenant: 'acme', keyId: 'key_a', requests: 2, errors: 1, lastUsedAt: new Date(1_100).toISOString() },
      { id: expect.any(String), tenant: 'acme', keyId: 'key_b', requests: 1, errors: 0, lastUsedAt: new Date(1_200).toISOString() },
    ]);
    expect(new Set(calls[0].deltas.map((delta) => delta.id)).size).toBe(2);
  });
});

describe('per credential', () => {
  it('sends the latest use of each credential with the key\'s delta, and none for uses not told apart', async () => {
    const { store, calls } = storeDouble();
    const usage = new UsageRecorder({ store, autoFlush: false });
    usage.record('acme', 'key_a', false, 1_100, 'hash-current');
    usage.record('acme', 'key_a', false, 1_300, 'hash-pending');
    usage.record('acme', 'key_a', true, 1_200, 'hash-current');
    usage.record('acme', 'key_a', false, 1_050, 'hash-current');
    usage.record('acme', 'key_b', false, 1_000);
    await usage.flush();
    expect(calls[0].deltas).toEqual([
      {
        id: expect.any(String),
        tenant: 'acme',
        keyId: 'key_a',
        requests: 4,
        errors: 1,
        lastUsedAt: new Date(1_300).toISOString(),
        credentials: [
          { credentialHash: 'hash-current', lastUsedAt: new Date(1_200).toISOString() },
          { credentialHash: 'hash-pending', lastUsedAt: new Date(1_300).toISOString() },
        ],
      },
      { id: expect.any(String), tenant: 'acme', keyId: 'key_b', requests: 1, errors: 0, lastUsedAt: new Date(1_000).toISOString() },
    ]);
  });

  it('re-sends a failed delta with its credentials unchanged', async () => {
    const { store, calls } = storeDouble(['fail', 'ok']);
    const usage = new UsageRecorder({ store, autoFlush: false, clock: () => 5_000 });
    usage.recordUse({ tenant: 'acme', id: 'key_a' }, 'hash-current', false);
    await usage.flush();
    usage.recordUse({ tenant: 'acme', id: 'key_a' }, 'hash-grace', false);
    await usage.flush();
    expect(calls[1].deltas).toEqual(calls[0].deltas);
    expect(calls[1].deltas[0].credentials).toEqual([{ credentialHash: 'hash-current', lastUsedAt: new Date(5_000).toISOString() }]);
  });
});

describe('retries', () => {
  it('re-sends a failed delta unchanged, with its id, and keeps newer counts apart until it is in', async () => {
    const { store, calls } = storeDouble(['fail', 'ok', 'ok']);
    const usage = new UsageRecorder({ store, autoFlush: false });
    usage.record('acme', 'key_a', false);
    await usage.flush();
    usage.record('acme', 'key_a', true);

    await usage.flush();
    await usage.flush();

    const [first, retry, next] = calls.map((call) => call.deltas);
    expect(retry).toEqual(first);
    expect(next).toEqual([expect.objectContaining({ keyId: 'key_a', requests: 1, errors: 1 })]);
    expect(next[0].id).not.toBe(first[0].id);
  });

  it('sends nothing again once a delta is written', async () => {
    const { store, calls } = storeDouble();
    const usage = new UsageRecorder({ store, autoFlush: false });
    usage.record('acme', 'key_a', false);
    await usage.flush();
    await usage.flush();
    expect(calls).toHaveLength(1);
  });
});

describe('budget', () => {
  it('stops waiting after the budget, aborts the write, and re-sends the same delta next time', async () => {
    const { store, calls } = storeDouble(['hang', 'ok']);
    const errors: unknown[] = [];
    const usage = new UsageRecorder({ store, autoFlush: false, onFlushError: (error) => errors.push(error) });
    usage.record('acme', 'key_a', false);

    await usage.flush({ budgetMs: 20 }); // resolves although the write never answers

    expect(calls[0].signal?.aborted).toBe(true);
    expect(String(errors[0])).toMatch(/took longer than its 20 ms budget/);
    await usage.flush();
    expect(calls[1].deltas).toEqual(calls[0].deltas);
  });

  it('lets an abandoned write that lands late settle only its own delta, never the next one', async () => {
    const { store, calls } = storeDouble(['hang', 'ok', 'fail', 'ok']);
    const usage = new UsageRecorder({ store, autoFlush: false });
    usage.record('acme', 'key_a', false);
    await usage.flush({ budgetMs: 20 }); // abandoned: delta 1 is still out
    await usage.flush(); // delta 1 again, written
    usage.record('acme', 'key_a', false);
    await usage.flush(); // delta 2, fails: unsettled

    calls[0].finish([]); // the abandoned first attempt of delta 1 answers at last
    await new Promise((resolve) => setImmediate(resolve));
    await usage.flush();

    expect(calls[3].deltas).toEqual(calls[2].deltas);
    expect(calls[3].deltas[0].id).not.toBe(calls[0].deltas[0].id);
  });
});
