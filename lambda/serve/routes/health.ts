/** `GET /healthz`: liveness only; touches nothing, so it is the benchmark's baseline too. */
import { Hono } from 'hono';
import type { ServeEnv } from '../context';

export function healthRoutes(): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.get('/healthz', (c) => c.json({ status: 'ok' }));
  return routes;
}
