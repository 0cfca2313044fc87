/** Property-based fuzzing of the HTTP API: thousands of malformed requests, never a 5xx or a stack trace. */
import fc from 'fast-check';
import { generateKey } from '../../lambda/keys/key-format';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let admin: string;
let keyId: string;

beforeAll(async () => {
  harness = await startHarness();
  admin = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'], rateLimit: { limit: 1_000_000, windowSeconds: 60 } })).key;
  keyId = (await harness.issue('acme', { permissions: ['telemetry:write'] })).id;
});
afterAll(() => harness.stop());

const segment = fc.oneof(
  fc.constantFrom('acme', 'globex', '', '..', '%00', '%E0%A4%A', 'api-keys', 'apiKeys', 'regenerate', 'revoke'),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.constant('x'.repeat(3000)),
);
const path = fc.oneof(
  fc.constantFrom('/v1/whoami', '/v1/verify', '/v1/telemetry', '/healthz', '/v1/tenants/acme/api-keys', '/auth/acme/apiKeys'),
  fc.tuple(segment, segment).map(([s1, s2]) => `/v1/tenants/${s1}/api-keys/${s2}`),
  fc.tuple(segment).map(([s]) => `/v1/tenants/acme/api-keys/${s}/regenerate`),
  fc.constant('/v1/tenants/acme/api-keys/KEYID'),
  fc.constant('/v1/tenants/acme/api-keys/KEYID/regenerate'),
  fc.tuple(segment).map(([s]) => `/auth/${s}/apiKeys/${s}`),
  fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({
    name: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constant('\ud800x'), fc.integer(), fc.constant(null)),
    environment: fc.oneof(fc.constantFrom('production', 'staging', 'development'), fc.string()),
    permissions: fc.oneof(fc.array(fc.string()), fc.constant(['telemetry:write']), fc.string()),
    rateLimit: fc.oneof(fc.record({ limit: fc.double(), windowSeconds: fc.integer() }), fc.string()),
    expiresAt: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.integer()),
    tags: fc.oneof(fc.array(fc.string({ maxLength: 80 }), { maxLength: 14 }), fc.array(fc.string({ unit: 'binary', maxLength: 8 }), { maxLength: 3 }), fc.string()),
    graceSeconds: fc.oneof(fc.integer(), fc.double(), fc.string()),
    enabled: fc.oneof(fc.boolean(), fc.string()),
    deviceId: fc.string(),
    key: fc.oneof(fc.string(), fc.constant(generateKey('production'))),
  }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
);
const keyHeader = fc.oneof(
  fc.constant<Record<string, string>>({}),
  fc.constant('ADMIN').map((k) => ({ 'x-api-key': k })),
  fc.string({ maxLength: 60 }).filter((s) => /^[\x21-\x7e]*$/.test(s)).map((k) => ({ 'x-api-key': k })),
  fc.string({ maxLength: 60 }).filter((s) => /^[\x20-\x7e]*$/.test(s)).map((k) => ({ authorization: k })),
  fc.constant({ authorization: 'Bearer ADMIN' }),
);
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD'),
  path,
  body,
  headers: keyHeader,
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', ''),
});

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function materialize(input: FuzzRequest) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers as Record<string, string>)) headers[name] = value.replace('ADMIN', admin);
  if (input.contentType) headers['content-type'] = input.contentType;
  const withBody = input.body !== undefined && !['GET', 'HEAD'].includes(input.method);
  return { path: input.path.replace('KEYID', keyId), init: { method: input.method, headers, body: withBody ? input.body : undefined } };
}

function assertClientSafe(status: number, text: string) {
  expect(status).toBeLessThan(500);
  expect(text).not.toMatch(/\n\s+at |Error: |node_modules/);
  expect(text).not.toContain(admin);
  if (status >= 400 && text) expect(JSON.parse(text).error.code).toMatch(/^[A-Z_]+$/);
}

it('never answers 5xx to thousands of malformed requests (in process)', async () => {
  await fc.assert(
    fc.asyncProperty(request, async (input) => {
      const { path: url, init } = materialize(input);
      const response = await harness.server.service.app.request(url, init);
      assertClientSafe(response.status, await response.text());
    }),
    { numRuns: 3000 },
  );
});

it('never answers 5xx over a real socket either', async () => {
  await fc.assert(
    fc.asyncProperty(request, async (input) => {
      const { path: url, init } = materialize(input);
      const response = await fetch(`${harness.url}${url}`, init);
      assertClientSafe(response.status, await response.text());
    }),
    { numRuns: 400 },
  );
});
