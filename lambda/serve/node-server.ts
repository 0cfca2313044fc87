/** Serves the app over HTTP with Node (local runs, `keyroll serve`, tests and the benchmark). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { hotPath } from './hot-path';
import { createService, type Service, type ServiceOptions } from './service';
import { settlingUnreadBodies } from './unread-body';

export interface RunningServer {
  readonly url: string;
  readonly service: Service;
  readonly port: number;
  stop(): Promise<void>;
}

/** @param port 0 picks a free port. */
export async function startServer(port: number, options: ServiceOptions = {}, hostname = '127.0.0.1'): Promise<RunningServer> {
  const service = createService(options);
  // settlingUnreadBodies owns what is left of a request body (see unread-body.ts).
  const app = getRequestListener(settlingUnreadBodies(service.app.fetch), { hostname, autoCleanupIncoming: false });
  const hot = hotPath(service.deps);
  const server = createServer((incoming, outgoing) => {
    if (!hot(incoming, outgoing)) void app(incoming, outgoing);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://${hostname}:${actualPort}`,
    service,
    port: actualPort,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections would hold close() open until they time out.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
      await service.close();
    },
  };
}
