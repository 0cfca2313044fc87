/**
 * Keep-alive after an early answer: a response sent before the request body was read (401, 403,
 * 404, 413) must leave the connection usable for the next request, or close it cleanly with
 * `Connection: close`. Both clients below hold one socket per origin, so the next request surely
 * follows on the same connection whenever the server keeps it open.
 */
import http from 'node:http';
import net from 'node:net';
import { LINGER_LIMITS } from '../../lambda/serve/unread-body';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let writer: string;
let reader: string;
let manager: string;

beforeAll(async () => {
  harness = await startHarness();
  writer = (await harness.issue('acme', { permissions: ['telemetry:write'] })).key;
  reader = (await harness.issue('acme', { permissions: ['billing:read'] })).key;
  manager = (await harness.issue('acme', { permissions: ['keys:manage'] })).key;
});
afterAll(() => harness.stop());

const MiB = 1024 * 1024;
const UNKNOWN_KEY_ID = 'key_00000000000000000000';

interface EarlyCase {
  readonly method: string;
  readonly path: string;
  readonly key: () => string;
  readonly bytes: number;
  readonly status: number;
}

const earlyAnswers: Record<string, EarlyCase> = {
  '413 from a Content-Length over the telemetry limit': { method: 'POST', path: '/v1/telemetry', key: () => writer, bytes: 2 * MiB, status: 413 },
  '401 from a bad key before the telemetry body is read': { method: 'POST', path: '/v1/telemetry', key: () => 'kr_live_nope', bytes: 2 * MiB, status: 401 },
  '403 from a key without telemetry:write': { method: 'POST', path: '/v1/telemetry', key: () => reader, bytes: 200 * 1024, status: 403 },
  '413 from a management body over 16 KiB': { method: 'POST', path: '/v1/tenants/acme/api-keys', key: () => manager, bytes: 2 * MiB, status: 413 },
  '401 from a management route with a large body': { method: 'POST', path: '/v1/tenants/acme/api-keys', key: () => 'kr_live_nope', bytes: 2 * MiB, status: 401 },
  // Within the limit, so the body reader has started, but the key is looked up before the body is.
  '404 from PATCH of an unknown key with a 16 KiB body': { method: 'PATCH', path: `/v1/tenants/acme/api-keys/${UNKNOWN_KEY_ID}`, key: () => manager, bytes: 16 * 1024, status: 404 },
  '404 from an unknown route with a body': { method: 'POST', path: '/v1/nowhere', key: () => writer, bytes: 2 * MiB, status: 404 },
};

/** A valid JSON document of `bytes` bytes, so that only the early answer can refuse it. */
function jsonOf(bytes: number): Buffer {
  const prefix = '{"name":"keep-alive","deviceId":"keep-alive","blob":"';
  return Buffer.from(`${prefix}${'x'.repeat(Math.max(0, bytes - prefix.length - 2))}"}`);
}

/** The same document in 64 KiB chunks, sent with no Content-Length: the limit can only trip mid-stream. */
function* chunksOf(bytes: number): Generator<Buffer> {
  const whole = jsonOf(bytes);
  for (let i = 0; i < whole.length; i += 64 * 1024) yield whole.subarray(i, i + 64 * 1024);
}

const verifyBody = () => JSON.stringify({ key: writer });

describe('with fetch (undici) on one connection', () => {
  // Node's fetch is undici, but undici is not a dependency: its Agent class is reached through the
  // global dispatcher fetch installs on first use. That lives on Node's own global, not on the
  // sandbox jest runs tests in, and a function from Node's realm (fetch) leads back to it.
  let agent: NonNullable<RequestInit['dispatcher']>;
  beforeAll(async () => {
    await fetch(`${harness.url}/healthz`);
    const nodeGlobal = await (fetch.constructor as FunctionConstructor)('return globalThis')();
    const dispatcher = nodeGlobal[Symbol.for('undici.globalDispatcher.1')];
    if (!dispatcher) throw new Error("undici's global dispatcher was not found; has Node's fetch changed?");
    agent = new dispatcher.constructor({ connections: 1 });
  });
  afterAll(() => agent.destroy());

  async function send(method: string, path: string, body: NonNullable<RequestInit['body']>, headers: Record<string, string> = {}) {
    const response = await fetch(`${harness.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body,
      dispatcher: agent,
      duplex: 'half',
    });
    return { status: response.status, body: await response.text() };
  }

  async function verifyNext() {
    const next = await send('POST', '/v1/verify', verifyBody());
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).valid).toBe(true);
  }

  it.each(Object.entries(earlyAnswers))('%s, then POST /v1/verify', async (_, { method, path, key, bytes, status }) => {
    expect((await send(method, path, jsonOf(bytes), { 'x-api-key': key() })).status).toBe(status);
    await verifyNext();
  });

  it('413 mid-stream from a chunked telemetry body, then POST /v1/verify', async () => {
    const stream = ReadableStream.from(chunksOf(2 * MiB));
    expect((await send('POST', '/v1/telemetry', stream, { 'x-api-key': writer })).status).toBe(413);
    await verifyNext();
  });

  it('keeps serving requests whose body was read', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await send('POST', '/v1/telemetry', jsonOf(1024), { 'x-api-key': writer })).status).toBe(202);
    }
    await verifyNext();
  });
});

describe('with node:http and a keep-alive agent of one socket', () => {
  let agent: http.Agent;
  beforeAll(() => {
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterAll(() => agent.destroy());

  interface Answer {
    readonly status: number;
    readonly body: string;
    readonly connection?: string;
    readonly reusedSocket: boolean;
    /** An error after the answer arrived, e.g. EPIPE while still writing the body. */
    readonly lateError?: NodeJS.ErrnoException;
  }

  function send(method: string, path: string, body: Buffer | Iterable<Buffer>, headers: Record<string, string> = {}): Promise<Answer> {
    const { hostname, port } = new URL(harness.url);
    return new Promise((resolve, reject) => {
      let answer: Omit<Answer, 'lateError'> | undefined;
      let lateError: NodeJS.ErrnoException | undefined;
      const request = http.request({ hostname, port, path, method, agent, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          answer = { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString(), connection: response.headers.connection, reusedSocket: request.reusedSocket };
        });
      });
      request.on('error', (error) => {
        if (!answer) reject(error);
        lateError ??= error;
      });
      // Settle once the request is done on both sides: that is when a write error would show.
      request.on('close', () => (answer ? resolve({ ...answer, lateError }) : reject(new Error('closed without an answer'))));
      if (Buffer.isBuffer(body)) {
        request.end(body);
        return;
      }
      for (const chunk of body) request.write(chunk);
      request.end();
    });
  }

  async function verifyNext() {
    const next = await send('POST', '/v1/verify', Buffer.from(verifyBody()));
    expect(next.status).toBe(200);
    return next;
  }

  it.each(Object.entries(earlyAnswers))('%s, then POST /v1/verify', async (_, { method, path, key, bytes, status }) => {
    const early = await send(method, path, jsonOf(bytes), { 'x-api-key': key() });
    expect(early.status).toBe(status);
    const next = await verifyNext();
    // A connection is either closed with notice, or still good for the next request.
    if (early.connection !== 'close') expect(next.reusedSocket).toBe(true);
  });

  it('413 mid-stream from a chunked telemetry body, then POST /v1/verify', async () => {
    const early = await send('POST', '/v1/telemetry', chunksOf(2 * MiB), { 'x-api-key': writer });
    expect(early.status).toBe(413);
    expect(early.connection).toBe('close');
    await verifyNext();
  });

  it('says Connection: close when it answers before the body has arrived', async () => {
    const early = await send('POST', '/v1/telemetry', jsonOf(2 * MiB), { 'x-api-key': writer });
    expect(early.status).toBe(413);
    expect(early.connection).toBe('close');
    expect(early.body).toContain('PAYLOAD_TOO_LARGE');
  });

  it('keeps the connection after a request whose body was read', async () => {
    expect((await send('POST', '/v1/telemetry', jsonOf(1024), { 'x-api-key': writer })).status).toBe(202);
    const next = await verifyNext();
    expect(next.reusedSocket).toBe(true);
  });

  it('lets a client still writing a refused body finish it: no EPIPE or reset after the answer', async () => {
    // More than the kernel buffers on either side take in, so the client is still writing when
    // the 413 goes out; closing at once would cut its writes.
    const early = await send('POST', '/v1/telemetry', jsonOf(LINGER_LIMITS.bytes - MiB), { 'x-api-key': writer });
    expect(early.status).toBe(413);
    expect(early.lateError?.code).toBeUndefined();
    await verifyNext();
  });

  it('closes a connection whose refused body stops arriving', async () => {
    const { hostname, port } = new URL(harness.url);
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (data: Buffer) => (answer += data.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // Promises 1 MiB, sends 300 KiB, then goes quiet: only the lingering's time bound ends it.
    socket.write(`POST /v1/telemetry HTTP/1.1\r\nHost: ${hostname}\r\nX-Api-Key: ${writer}\r\nContent-Length: ${MiB}\r\n\r\n`);
    socket.write('x'.repeat(300 * 1024));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 [^]*\r\nconnection: close\r\n/i);
  });

  it('cuts a refused body that goes on past the bound', async () => {
    // A raw socket, because an HTTP client stops sending once it reads `Connection: close`.
    const { hostname, port } = new URL(harness.url);
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (data: Buffer) => (answer += data.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let written = 0;
    socket.write(`POST /v1/telemetry HTTP/1.1\r\nHost: ${hostname}\r\nX-Api-Key: ${writer}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
    // A body without end: write whenever the socket takes more, until the server hangs up.
    while (!socket.destroyed && written < 16 * LINGER_LIMITS.bytes) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
      written += chunk.length;
    }
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 [^]*\r\nconnection: close\r\n/i);
    // The kernel buffers on both sides take in a few MiB more than the server discarded.
    expect(written).toBeLessThan(2 * LINGER_LIMITS.bytes);
  });
});
