/**
 * The key service in AWS Lambda, behind a function URL or an HTTP API. Timers freeze between
 * invocations, so usage is flushed at the end of an invocation when the last flush is at least a
 * second old: at most one usage write per key per second per container, and only usage from the
 * last second before the container goes idle waits for its next invocation.
 */
import { handle } from 'hono/aws-lambda';
import { createService } from './service';

const service = createService({ autoFlushUsage: false, usageFlushIntervalMs: 1000 });
const serveRequest = handle(service.app);

export const handler: typeof serveRequest = async (event, context) => {
  const response = await serveRequest(event, context);
  await service.deps.usage.flushIfDue();
  return response;
};
