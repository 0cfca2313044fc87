/** The console's two static assets, a script and a stylesheet, served from the service itself. */
import { Hono } from 'hono';
import type { ServeEnv } from '../serve/context';
import { CONSOLE_SCRIPT } from './assets/console-script';
import { CONSOLE_STYLE } from './assets/console-style';

export const ASSET_PATHS = { js: '/console/assets/console.js', css: '/console/assets/console.css' } as const;

export function assetRoutes(): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.get('/assets/console.js', (c) => c.body(CONSOLE_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  routes.get('/assets/console.css', (c) => c.body(CONSOLE_STYLE, 200, { 'content-type': 'text/css; charset=utf-8' }));
  return routes;
}
