/**
 * The hot path (lambda/serve/hot-path.ts) answers exactly as the app does. Each case is asked twice
 * of the same server: `/v1/whoami` (the hot path, once the key is cached) and `/v1/whoami?` (a
 * query string sends it to the Hono app, whose routes ignore it), and the answers must match:
 * status, body, and every header but Date and the remaining quota. Usage is counted the same too.
 */
import http from 'node:http';
import { generateKey } from '../../lambda/keys/key-format';
import { type ApiResponse, type Harness, startHarness } from '../support/service-harness';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ service: { autoFlushUsage: false } });
});
afterAll(() => harness.stop());

const HOT = '/v1/whoami';
const APP = '/v1/whoami?via=app';

function comparable(response: ApiResponse) {
  const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== 'date' && name !== 'x-ratelimit-remaining'));
  return { status: response.status, headers, body: response.body };
}

/** Asks both ways; the first (uncached) answer of a key comes from the app either way, so warm first. */
async function bothWays(headers: Record<string, string>) {
  await harness.call('GET', HOT, { headers });
  const hot = await harness.call('GET', HOT, { headers });
  const app = await harness.call('GET', APP, { headers });
  expect(comparable(hot)).toEqual(comparable(app));
  return { hot, app };
}

describe('the hot path answers as the app does', () => {
  it('for a valid key, in each header it may come in', async () => {
    const { key } = await harness.issue('acme', { permissions: ['telemetry:write'], customerId: 'cust-1', rateLimit: { limit: 1000, windowSeconds: 60 } });
    const ways: Record<string, string>[] = [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }, { 'x-tlm-key': key }, { 'x-api-key': ` ${key} ` }];
    for (const headers of ways) {
      const { hot, app } = await bothWays(headers);
      expect(hot.status).toBe(200);
      expect(hot.body).toMatchObject({ tenant: 'acme', customerId: 'cust-1', permissions: ['telemetry:write'] });
      expect(Number(app.headers.get('x-ratelimit-remaining'))).toBe(Number(hot.headers.get('x-ratelimit-remaining')) - 1);
      expect(hot.headers.get('content-length')).toBe(String(Buffer.byteLength(hot.text)));
    }
  });

  it('for refusals: missing, malformed, unknown, other environment, disabled, expired, revoked', async () => {
    const disabled = await harness.issue('acme', { permissions: [] });
    await harness.manager.update('acme', disabled.id, { enabled: false });
    const expiring = await harness.issue('acme', { permissions: [], expiresAt: new Date(Date.now() + 1500).toISOString() });
    const revoked = await harness.issue('acme', { permissions: [] });
    await harness.manager.revoke('acme', revoked.id);
    const cases: Array<[string, Record<string, string>]> = [
      ['MISSING_API_KEY', {}],
      ['INVALID_API_KEY', { 'x-api-key': 'kr_live_short' }],
      ['INVALID_API_KEY', { 'x-api-key': generateKey('production') }],
      ['ENVIRONMENT_MISMATCH', { 'x-api-key': generateKey('staging') }],
      ['KEY_DISABLED', { 'x-api-key': disabled.key }],
      ['INVALID_API_KEY', { 'x-api-key': revoked.key }],
    ];
    for (const [code, headers] of cases) {
      const { hot } = await bothWays(headers);
      expect([hot.status, hot.body.error.code]).toEqual([401, code]);
      expect(hot.headers.get('www-authenticate')).toMatch(/^Bearer realm="keyroll"/);
    }
    await harness.call('GET', HOT, { key: expiring.key });
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const { hot } = await bothWays({ 'x-api-key': expiring.key });
    expect(hot.body.error.code).toBe('KEY_EXPIRED');
  });

  it('for a key over its rate limit: 429 with Retry-After and the quota headers', async () => {
    const { key } = await harness.issue('acme', { permissions: [], rateLimit: { limit: 2, windowSeconds: 3600 } });
    await harness.call('GET', HOT, { key });
    await harness.call('GET', HOT, { key });
    const hot = await harness.call('GET', HOT, { key });
    const app = await harness.call('GET', APP, { key });
    expect(hot.status).toBe(429);
    expect(comparable(hot)).toEqual(comparable(app));
    expect(hot.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(hot.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('for /healthz', async () => {
    const hot = await harness.call('GET', '/healthz');
    const app = await harness.call('GET', '/healthz?via=app');
    expect(comparable(hot)).toEqual(comparable(app));
    expect(hot.body).toEqual({ status: 'ok' });
  });

  it('when the rate limiter is closed (a server shutting down): the app answers, once', async () => {
    const closing = await startHarness({ tables: harness.tables, service: { autoFlushUsage: false } });
    try {
      const { key } = await harness.issue('acme', { permissions: [] });
      expect((await closing.call('GET', HOT, { key })).status).toBe(200);
      await closing.server.service.deps.rateLimiter.close();
      const hot = await closing.call('GET', HOT, { key });
      const app = await closing.call('GET', APP, { key });
      expect(comparable(hot)).toEqual(comparable(app));
      expect(hot.status).toBeGreaterThanOrEqual(500);
    } finally {
      await closing.stop();
    }
  });

  it('on one keep-alive connection, judges each request by the key it presents, not the last one', async () => {
    const first = await harness.issue('acme', { permissions: [] });
    const second = await harness.issue('globex', { permissions: [] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (key: string) =>
      new Promise<{ status: number; tenant?: string; code?: string; reused: boolean }>((resolve, reject) => {
        const request = http.get(`${harness.url}${HOT}`, { agent, headers: { 'x-api-key': key } }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            const body = JSON.parse(text);
            resolve({ status: response.statusCode ?? 0, tenant: body.tenant, code: body.error?.code, reused: request.reusedSocket });
          });
        });
        request.on('error', reject);
      });
    try {
      // Each key warmed first (the made-up one too: its hash is then cached as unknown), so every
      // answer below is the hot path's, and the connection's remembered hash changes at each switch.
      const madeUp = generateKey('production');
      for (const key of [first.key, second.key, madeUp]) await harness.call('GET', HOT, { key });
      const answers = [];
      for (const key of [first.key, first.key, second.key, madeUp, first.key]) answers.push(await ask(key));
      expect(answers.slice(1).every((answer) => answer.reused)).toBe(true);
      expect(answers.map(({ status, tenant, code }) => [status, tenant ?? code])).toEqual([
        [200, 'acme'],
        [200, 'acme'],
        [200, 'globex'],
        [401, 'INVALID_API_KEY'],
        [200, 'acme'],
      ]);
    } finally {
      agent.destroy();
    }
  });

  it('counts usage as the app does, by status', async () => {
    const { id, key } = await harness.issue('acme', { permissions: [], rateLimit: { limit: 6, windowSeconds: 3600 } });
    for (const path of [HOT, APP, HOT, APP, HOT, APP, HOT, APP]) await harness.call('GET', path, { key });
    await harness.server.service.deps.usage.flush();
    const record = await harness.manager.get('acme', id);
    expect([record.requestCount, record.errorCount]).toEqual([8, 2]);
    const series = await harness.call('GET', `/v1/tenants/acme/api-keys/${id}/usage`, { key: (await harness.issue('acme', { permissions: ['*'] })).key });
    const total = series.body.series.reduce((sum: Record<string, number>, point: { byStatus: Record<string, number> }) => {
      for (const [status, count] of Object.entries(point.byStatus)) sum[status] = (sum[status] ?? 0) + count;
      return sum;
    }, {});
    expect(total).toMatchObject({ '2xx': 6, '429': 2 });
  });
});
