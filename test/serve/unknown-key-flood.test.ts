/**
 * Issue 7, item 7: made-up keys with valid checksums (the checksum is public) must not buy a store
 * read each. Against the emulator, over HTTP: a flood of them costs at most the unknown-key budget
 * in store reads, the rest get 503 with Retry-After, and a known key keeps answering 200.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { generateKey } from '../../lambda/keys/key-format';
import { countingSecretReads } from '../support/secret-reads';
import { type ApiResponse, type Harness, startHarness } from '../support/service-harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const BUDGET = { ratePerSecond: 20, burst: 10 };
const FLOOD = { keysPerTick: 10, tickMs: 50, ticks: 60 }; // 200 made-up keys/s for 3 s

describe('a flood of made-up keys with valid checksums', () => {
  let harness: Harness;
  const reads = countingSecretReads();
  const logger = new Logger({ serviceName: 'keyroll-test', logLevel: 'SILENT' });
  const errorLogs = jest.spyOn(logger, 'error');
  const warnLogs = jest.spyOn(logger, 'warn');

  beforeAll(async () => {
    harness = await startHarness({ service: { documentClient: reads.documentClient, unknownKeyReads: BUDGET, logger } });
  });
  afterAll(() => harness.stop());

  it('costs at most burst + rate × elapsed store reads, and a known key keeps answering 200', async () => {
    const known = (await harness.issue('acme', { permissions: ['telemetry:write'] })).key;
    expect((await harness.call('GET', '/v1/whoami', { key: known })).status).toBe(200);

    let flooding = true;
    const knownStatuses: number[] = [];
    const knownLoop = (async () => {
      while (flooding) {
        knownStatuses.push((await harness.call('GET', '/v1/whoami', { key: known })).status);
        await sleep(50);
      }
    })();

    const startedAt = Date.now();
    const flood: Promise<ApiResponse>[] = [];
    for (let tick = 0; tick < FLOOD.ticks; tick++) {
      for (let i = 0; i < FLOOD.keysPerTick; i++) flood.push(harness.call('GET', '/v1/whoami', { key: generateKey('production') }));
      await sleep(FLOOD.tickMs);
    }
    const responses = await Promise.all(flood);
    const elapsedMs = Date.now() - startedAt;
    flooding = false;
    await knownLoop;

    const unknownReads = reads.total() - reads.readsOf(known);
    // The bucket holds at most `burst` when the flood starts and refills at `rate` on the service's
    // clock, which is this process's: the bound is exact, give or take Date.now()'s 1 ms granularity
    // at each end of `elapsedMs`.
    const bound = BUDGET.burst + (BUDGET.ratePerSecond * (elapsedMs + 2)) / 1000;
    expect(unknownReads).toBeLessThanOrEqual(bound);
    // The budget was really spent, and each read it paid for answered its key, as the store said.
    expect(unknownReads).toBeGreaterThanOrEqual(BUDGET.burst);
    const refused = responses.filter((r) => r.status === 503);
    expect(responses.filter((r) => r.status === 401 && r.body.error.code === 'INVALID_API_KEY')).toHaveLength(unknownReads);
    expect(refused).toHaveLength(responses.length - unknownReads);
    for (const response of refused) {
      expect(response.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(response.body.error.message).toMatch(/Retry after the number of seconds in `Retry-After`/);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }

    // The known key was served throughout, and its stale-while-revalidate refreshes (about one a
    // second) were not held back by the spent budget: the first read plus at least two refreshes.
    expect(knownStatuses.length).toBeGreaterThan(20);
    expect(knownStatuses.every((status) => status === 200)).toBe(true);
    expect(reads.readsOf(known)).toBeGreaterThanOrEqual(3);

    // Shed load is reported once, not logged per request.
    expect(errorLogs).not.toHaveBeenCalled();
    expect(warnLogs.mock.calls.filter(([message]) => String(message).includes('unknown keys'))).toHaveLength(1);
  });
});

describe('a real key this instance has not checked yet, while the budget is spent', () => {
  let harness: Harness;
  beforeAll(async () => {
    const logger = new Logger({ serviceName: 'keyroll-test', logLevel: 'SILENT' });
    harness = await startHarness({ service: { unknownKeyReads: { ratePerSecond: 1, burst: 1 }, logger } });
  });
  afterAll(() => harness.stop());

  it('gets 503 with Retry-After, not "invalid" (it may be real), and is checked when retried after it', async () => {
    const real = (await harness.issue('acme', { permissions: ['telemetry:write'] })).key;
    expect((await harness.call('GET', '/v1/whoami', { key: generateKey('production') })).status).toBe(401); // spends the budget
    const refused = await harness.call('POST', '/v1/verify', { body: { key: real } });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('SERVICE_UNAVAILABLE');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBe(1);
    await sleep(retryAfter * 1000);
    const retried = await harness.call('POST', '/v1/verify', { body: { key: real } });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ valid: true, code: 'VALID' });
  });
});
