/** `GET /healthz`: liveness only; touches nothing, so it is the benchmark's baseline too. */
import { Hono } from 'hono';
import type { ServeEnv } from '../context';

/** What /healthz answers (also written by hot-path.ts on Node). */
export const HEALTH_BODY = { status: 'ok' } as const;

export function healthRoutes(): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.get('/healthz', (c) => c.json(HEALTH_BODY));
  return routes;
}
