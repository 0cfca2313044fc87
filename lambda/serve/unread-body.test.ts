/** settlingUnreadBodies on a bare app: bodies answered unread, at sizes around Node's buffers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { settlingUnreadBodies } from './unread-body';

const app = new Hono();
// Touching the body starts a reader, as the body limit does, and then it is never read.
app.post('/unread', (c) => c.json({ started: c.req.raw.body !== null }, 400));
app.post('/read', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));

let server: ReturnType<typeof serve>;
let port: number;
let agent: http.Agent;

beforeAll(async () => {
  await new Promise<void>((resolve) => {
    server = serve({ fetch: settlingUnreadBodies(app.fetch), port: 0, hostname: '127.0.0.1', autoCleanupIncoming: false }, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
});
afterAll(async () => {
  agent.destroy();
  const closed = new Promise((resolve) => server.close(resolve));
  (server as http.Server).closeAllConnections();
  await closed;
});

function post(path: string, body: Buffer): Promise<{ status: number; connection?: string; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, reusedSocket: request.reusedSocket }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

it.each([1, 40, 300, 2048])('a %i KiB body answered unread leaves the connection usable, or closed with notice', async (kib) => {
  const early = await post('/unread', Buffer.alloc(kib * 1024, 'x'));
  expect(early.status).toBe(400);
  const next = await post('/read', Buffer.from('{}'));
  expect(next.status).toBe(200);
  if (early.connection !== 'close') expect(next.reusedSocket).toBe(true);
});

it('keeps the connection when a small body arrived with the headers, even for a sync answer', async () => {
  const early = await post('/unread', Buffer.alloc(1024, 'x'));
  expect(early.connection).not.toBe('close');
  expect((await post('/read', Buffer.from('{}'))).reusedSocket).toBe(true);
});

it('closes with notice when the answer goes out before the body is in', async () => {
  expect((await post('/unread', Buffer.alloc(2 * 1024 * 1024, 'x'))).connection).toBe('close');
});

it('keeps the connection when the body was read', async () => {
  await post('/read', Buffer.alloc(100 * 1024, 'x'));
  expect((await post('/read', Buffer.from('{}'))).reusedSocket).toBe(true);
});
