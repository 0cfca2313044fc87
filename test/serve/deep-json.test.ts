/**
 * Deeply nested JSON in the small bodies (management, verify): as deep as their limits allow, it is
 * a 400 that names the field, never a 500. (Telemetry, whose readings are free-form JSON, bounds
 * nesting itself: see telemetry.test.ts.)
 */
import { JSON_BODY_LIMIT_BYTES } from '../../lambda/serve/json-body';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let manager: string;
let keyId: string;

beforeAll(async () => {
  harness = await startHarness();
  manager = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
  keyId = (await harness.issue('acme', { permissions: ['telemetry:write'] })).id;
});
afterAll(() => harness.stop());

/** `{...fields, [field]: [[[…]]]}` filling `bytes`, as text: building it as an object and stringifying would overflow here. */
function deepBody(fields: Record<string, unknown>, field: string, bytes: number): string {
  const head = `${JSON.stringify(fields).slice(0, -1)}${Object.keys(fields).length ? ',' : ''}"${field}":`;
  const levels = Math.floor((bytes - head.length - 1) / 2);
  return `${head}${'['.repeat(levels)}${']'.repeat(levels)}}`;
}

const createFields = { name: 'deep', environment: 'production', permissions: ['telemetry:write'] };

it.each([
  ['POST /v1/verify, deep `key`', 'POST', '/v1/verify', {}, 'key', 4096],
  ['POST /v1/verify, deep unknown field', 'POST', '/v1/verify', { key: 'kr_live_x' }, 'extra', 4096],
  ['create, deep `tags`', 'POST', '/v1/tenants/acme/api-keys', createFields, 'tags', JSON_BODY_LIMIT_BYTES],
  ['create, deep unknown field', 'POST', '/v1/tenants/acme/api-keys', createFields, 'extra', JSON_BODY_LIMIT_BYTES],
  ['PATCH, deep `rateLimit`', 'PATCH', '/v1/tenants/acme/api-keys/:id', {}, 'rateLimit', JSON_BODY_LIMIT_BYTES],
  ['regenerate, deep body field', 'POST', '/v1/tenants/acme/api-keys/:id/regenerate', {}, 'graceSeconds', JSON_BODY_LIMIT_BYTES],
  ['legacy create, deep `name`', 'POST', '/auth/acme/apiKeys', {}, 'name', JSON_BODY_LIMIT_BYTES],
])('%s: VALIDATION_ERROR naming the field', async (_, method, path, fields, field, limit) => {
  const body = deepBody(fields, field, limit);
  expect(body.length).toBeLessThanOrEqual(limit);
  const response = await harness.call(method, path.replace(':id', keyId), { key: manager, body });
  expect(response.status).toBe(400);
  expect(response.body.error.code).toBe('VALIDATION_ERROR');
  expect(response.body.error.message).toContain(field);
});
