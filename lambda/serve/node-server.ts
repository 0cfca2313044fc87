/** Serves the app over HTTP with Node (local runs, `keyroll serve`, tests and the benchmark). */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createService, type Service, type ServiceOptions } from './service';

export interface RunningServer {
  readonly url: string;
  readonly service: Service;
  readonly port: number;
  stop(): Promise<void>;
}

/** @param port 0 picks a free port. */
export async function startServer(port: number, options: ServiceOptions = {}, hostname = '127.0.0.1'): Promise<RunningServer> {
  const service = createService(options);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: service.app.fetch, port, hostname }, () => resolve(started));
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
