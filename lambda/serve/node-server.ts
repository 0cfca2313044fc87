/** Serves the app over HTTP with Node (local runs, `keyroll serve`, tests and the benchmark). */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
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
  const fetch = settlingUnreadBodies(service.app.fetch);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    // settlingUnreadBodies owns what is left of a request body (see unread-body.ts).
    const started = serve({ fetch, port, hostname, autoCleanupIncoming: false }, () => resolve(started));
    started.once('error', reject);
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
