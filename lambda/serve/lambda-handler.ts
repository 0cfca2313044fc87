/**
 * The key service in AWS Lambda, behind a function URL or an HTTP API. Timers freeze between
 * invocations, so usage is flushed at the end of an invocation when the last flush is at least a
 * second old: at most one usage write per key per second per instance, and only usage from the
 * last second before the instance goes idle waits for its next invocation.
 *
 * The flush runs before the response returns (after it, the instance may be frozen at once), so it
 * is held to a budget, and a response that carries a key never waits on it at all: if a slow
 * DynamoDB pushed such an invocation past the function's timeout, the key would be issued and its
 * plaintext lost. Usage left unwritten goes out with the next invocation's flush.
 */
import { handle } from 'hono/aws-lambda';
import { KEY_PATTERN } from '../keys/key-format';
import { createService, type ServiceOptions } from './service';

/** The longest an invocation waits on a due usage flush; what is unfinished by then is retried later. */
export const USAGE_FLUSH_BUDGET_MS = 300;

export interface LambdaHandlerOptions extends ServiceOptions {
  /** @default USAGE_FLUSH_BUDGET_MS */
  readonly usageFlushBudgetMs?: number;
}

/**
 * @example
 * export const handler = createLambdaHandler({ documentClient }); // tests: a client with fault-injecting middleware
 */
export function createLambdaHandler(options: LambdaHandlerOptions = {}) {
  const { usageFlushBudgetMs = USAGE_FLUSH_BUDGET_MS, ...serviceOptions } = options;
  const service = createService({ autoFlushUsage: false, usageFlushIntervalMs: 1000, ...serviceOptions });
  const serveRequest = handle(service.app);
  const handler: typeof serveRequest = async (event, context) => {
    const response = await serveRequest(event, context);
    if (!carriesKey(response)) await service.deps.usage.flushIfDue({ budgetMs: usageFlushBudgetMs });
    return response;
  };
  return handler;
}

/**
 * Whether the response body holds a key's plaintext (create, regenerate, the legacy create, and any
 * route that shows a key in the future). Judged by what is in the body, not by route or a flag, so
 * a new route cannot forget to opt in; a false match would only postpone one flush.
 */
function carriesKey(response: { body?: string; isBase64Encoded?: boolean }): boolean {
  if (!response.body) return false;
  const body = response.isBase64Encoded ? Buffer.from(response.body, 'base64').toString('utf8') : response.body;
  return KEY_PATTERN.test(body);
}

let lambdaHandler: ReturnType<typeof createLambdaHandler> | undefined;

/** Built on first use and kept for the warm instance. */
export const handler: ReturnType<typeof createLambdaHandler> = (event, context) => {
  lambdaHandler ??= createLambdaHandler();
  return lambdaHandler(event, context);
};
