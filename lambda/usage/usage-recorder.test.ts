/** The recorder's bookkeeping, against a store double that shows what each flush sends. */
import type { UsageDelta } from '../store/key-store';
import { MAX_MINUTES_PER_DELTA } from '../store/key-store';
import { UsageRecorder } from './usage-recorder';

const zeros = { '2xx': 0, '4xx': 0, '5xx': 0, '401': 0, '403': 0, '429': 0 };
const minuteZero = new Date(0).toISOString();

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
    usage.record('acme', 'key_a', 200, 1_100);
    usage.record('acme', 'key_a', 500, 1_050);
    usage.record('acme', 'key_b', 200, 1_200);

    await usage.flushIfDue();
    expect(calls).toHaveLength(0);
    now = 2_000;
    await usage.flushIfDue();

    expect(calls).toHaveLength(1);
    expect(calls[0].deltas).toEqual([
      {
        id: expect.any(String),
        tenant: 'acme',
        keyId: 'key_a',
        requests: 2,
        errors: 1,
        minutes: [{ at: minuteZero, requests: 2, errors: 1, byStatus: { ...zeros, '2xx': 1, '5xx': 1 } }],
        lastUsedAt: new Date(1_100).toISOString(),
      },
      {
        id: expect.any(String),
        tenant: 'acme',
        keyId: 'key_b',
        requests: 1,
        errors: 0,
        minutes: [{ at: minuteZero, requests: 1, errors: 0, byStatus: { ...zeros, '2xx': 1 } }],
        lastUsedAt: new Date(1_200).toISOString(),
      },
    ]);
    expect(new Set(calls[0].deltas.map((delta) => delta.id)).size).toBe(2);
  });
});

describe('per credential', () => {
  it('sends the latest use of each credential with the key\'s delta, and none for uses not told apart', async () => {
    const { store, calls } = storeDouble();
    const usage = new UsageRecorder({ store, autoFlush: false });
    usage.record('acme', 'key_a', 200, 1_100, 'hash-current');
    usage.record('acme', 'key_a', 200, 1_300, 'hash-pending');
    usage.record('acme', 'key_a', 500, 1_200, 'hash-current');
    usage.record('acme', 'key_a', 200, 1_050, 'hash-current');
    usage.record('acme', 'key_b', 200, 1_000);
    await usage.flush();
    expect(calls[0].deltas).toEqual([
      {
        id: expect.any(String),
        tenant: 'acme',
        keyId: 'key_a',
        requests: 4,
        errors: 1,
        minutes: [expect.objectContaining({ requests: 4, errors: 1 })],
        lastUsedAt: new Date(1_300).toISOString(),
        credentials: [
          { credentialHash: 'hash-current', lastUsedAt: new Date(1_200).toISOString() },
          { credentialHash: 'hash-pending', lastUsedAt: new Date(1_300).toISOString() },
        ],
      },
      { id: expect.any(String), tenant: 'acme', keyId: 'key_b', requests: 1, errors: 0, minutes: [expect.any(Object)], lastUsedAt: new Date(1_000).toISOString() },
    ]);
  });

  it('re-sends a failed delta with its credentials unchanged', async () => {
    const { store, calls } = storeDouble(['fail', 'ok']);
    const usage = new UsageRecorder({ store, autoFlush: false, clock: () => 5_000 });
    usage.recordUse({ tenant: 'acme', id: 'key_a', name: 'a', environment: 'production' }, 'hash-current', 200);
    await usage.flush();
    usage.recordUse({ tenant: 'acme', id: 'key_a', name: 'a', environment: 'production' }, 'hash-grace', 200);
    await usage.flush();
    expect(calls[1].deltas).toEqual(calls[0].deltas);
    expect(calls[1].deltas[0].credentials).toEqual([{ credentialHash: 'hash-current', lastUsedAt: new Date(5_000).toISOString() }]);
  });
});

describe('retries', () => {
  it('re-sends a failed delta unchanged, with its id, and keeps newer counts apart until it is in', async () => {
    const { store, calls } = storeDouble(['fail', 'ok', 'ok']);
    const usage = new UsageRecorder({ store, autoFlush: false });
    usage.record('acme', 'key_a', 200);
    await usage.flush();
    usage.record('acme', 'key_a', 500);

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
    usage.record('acme', 'key_a', 200);
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
    usage.record('acme', 'key_a', 200);

    await usage.flush({ budgetMs: 20 }); // resolves although the write never answers

    expect(calls[0].signal?.aborted).toBe(true);
    expect(String(errors[0])).toMatch(/took longer than its 20 ms budget/);
    await usage.flush();
    expect(calls[1].deltas).toEqual(calls[0].deltas);
  });

  it('lets an abandoned write that lands late settle only its own delta, never the next one', async () => {
    const { store, calls } = storeDouble(['hang', 'ok', 'fail', 'ok']);
    const usage = new UsageRecorder({ store, autoFlush: false });
    usage.record('acme', 'key_a', 200);
    await usage.flush({ budgetMs: 20 }); // abandoned: delta 1 is still out
    await usage.flush(); // delta 1 again, written
    usage.record('acme', 'key_a', 200);
    await usage.flush(); // delta 2, fails: unsettled

    calls[0].finish([]); // the abandoned first attempt of delta 1 answers at last
    await new Promise((resolve) => setImmediate(resolve));
    await usage.flush();

    expect(calls[3].deltas).toEqual(calls[2].deltas);
    expect(calls[3].deltas[0].id).not.toBe(calls[0].deltas[0].id);
  });
});

describe('per minute and status class', () => {
  it('counts each answer in its minute, by status class, with 401, 403 and 429 also in 4xx', async () => {
    const { store, calls } = storeDouble();
    const usage = new UsageRecorder({ store, autoFlush: false });
    const minute = Date.parse('2026-06-01T12:00:00Z');
    for (const status of [200, 201, 204, 401, 403, 429, 404, 400, 500, 503, 302]) usage.record('acme', 'key_a', status, minute + 1_000);
    usage.record('acme', 'key_a', 429, minute + 60_000); // the next minute
    usage.record('acme', 'key_a', 200, minute + 59_999); // late, back in the first
    await usage.flush();

    expect(calls[0].deltas[0]).toMatchObject({
      requests: 13,
      errors: 8,
      minutes: [
        { at: '2026-06-01T12:00:00.000Z', requests: 12, errors: 7, byStatus: { '2xx': 4, '4xx': 5, '5xx': 2, '401': 1, '403': 1, '429': 1 } },
        { at: '2026-06-01T12:01:00.000Z', requests: 1, errors: 1, byStatus: { ...zeros, '4xx': 1, '429': 1 } },
      ],
    });
  });

  it(`sends at most ${MAX_MINUTES_PER_DELTA} minutes per delta, oldest first, and the rest once that one is in`, async () => {
    const { store, calls } = storeDouble();
    const usage = new UsageRecorder({ store, autoFlush: false });
    const start = Date.parse('2026-06-01T00:00:00Z');
    // One request an hour apart: no two minutes share an hour, the most transaction items a delta can need.
    for (let i = MAX_MINUTES_PER_DELTA + 2; i >= 0; i--) usage.record('acme', 'key_a', 200, start + i * 3_600_000, 'hash');
    await usage.flush();
    await usage.flush();

    const [first, second] = calls.map((call) => call.deltas[0]);
    expect(first.minutes).toHaveLength(MAX_MINUTES_PER_DELTA);
    expect(first.minutes[0].at).toBe('2026-06-01T00:00:00.000Z');
    expect(first.requests).toBe(MAX_MINUTES_PER_DELTA);
    expect(first.credentials).toHaveLength(1);
    expect(second.minutes.map((minute) => minute.at)).toEqual([2, 1, 0].map((back) => new Date(start + (MAX_MINUTES_PER_DELTA + 2 - back) * 3_600_000).toISOString()));
    expect(second.requests).toBe(3);
    expect(second.id).not.toBe(first.id);
    await usage.flush();
    expect(calls).toHaveLength(2);
  });

  it('counts requests made after a flush took their minute into a new delta, not the one sent', async () => {
    const { store, calls } = storeDouble(['hang', 'ok', 'ok']);
    const usage = new UsageRecorder({ store, autoFlush: false, clock: () => 30_000 });
    usage.record('acme', 'key_a', 200);
    await usage.flush({ budgetMs: 10 });
    usage.record('acme', 'key_a', 500); // same minute, while the first delta is out
    await usage.flush();
    await usage.flush();

    expect(calls[1].deltas).toEqual(calls[0].deltas);
    expect(calls[0].deltas[0].minutes).toEqual([{ at: minuteZero, requests: 1, errors: 0, byStatus: { ...zeros, '2xx': 1 } }]);
    expect(calls[2].deltas[0].minutes).toEqual([{ at: minuteZero, requests: 1, errors: 1, byStatus: { ...zeros, '5xx': 1 } }]);
  });
});
