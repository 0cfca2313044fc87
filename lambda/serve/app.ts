/** The keyroll HTTP app: every route, one error shape. Served by Node locally and by Lambda in AWS. */
import { Hono } from 'hono';
import { errors } from '../errors';
import { redactKeys } from '../keys/key-format';
import type { ServeEnv } from './context';
import type { ServeDeps } from './deps';
import { methodsByPath } from './allowed-methods';
import { classifyError, errorResponse } from './error-response';
import { apiKeyRoutes } from './routes/api-keys';
import { auditRoutes } from './routes/audit';
import { alertRoutes } from './routes/alerts';
import { healthRoutes } from './routes/health';
import { keyUsageRoutes } from './routes/key-usage';
import { legacyApiKeyRoutes } from './routes/legacy-api-keys';
import { telemetryRoutes } from './routes/telemetry';
import { verifyRoutes } from './routes/verify';
import { whoamiRoutes } from './routes/whoami';

export function createApp(deps: ServeDeps): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.route('/', healthRoutes());
  app.route('/', whoamiRoutes(deps));
  app.route('/', verifyRoutes(deps));
  app.route('/', telemetryRoutes(deps));
  app.route('/', apiKeyRoutes(deps));
  // After apiKeyRoutes: its management middleware (…/api-keys/*) authenticates this route too.
  app.route('/', keyUsageRoutes(deps));
  app.route('/', legacyApiKeyRoutes(deps));
  app.route('/', auditRoutes(deps));
  app.route('/', alertRoutes(deps));

  const allowedMethods = methodsByPath(app.routes);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (!allowed) return errorResponse(c, errors.routeNotFound(c.req.method, truncate(c.req.path)));
    const allow = allowed.join(', ');
    // OPTIONS asks exactly this question; any other method is the wrong one for a known route.
    if (c.req.method === 'OPTIONS') return c.body(null, 204, { allow });
    return errorResponse(c, errors.methodNotAllowed(c.req.method, truncate(c.req.path), allowed), { allow });
  });
  app.onError((thrown, c) => {
    const { error, fault } = classifyError(thrown);
    // Only our own failures are logged, by name and message; never the request's headers or body.
    if (fault) deps.logger.error('request failed', { path: truncate(c.req.path), error: describe(thrown) });
    return errorResponse(c, error);
  });
  return app;
}

/** Paths are echoed and logged, so a key pasted into one is masked first. */
function truncate(path: string): string {
  const safe = redactKeys(path);
  return safe.length > 200 ? `${safe.slice(0, 200)}…` : safe;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
