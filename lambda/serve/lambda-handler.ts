/**
 * The key service in AWS Lambda, behind a function URL or an HTTP API. Timers freeze between
 * invocations, so usage is flushed at the end of an invocation whenever it is due.
 */
import { handle } from 'hono/aws-lambda';
import { createService } from './service';

const service = createService({ autoFlushUsage: false });
const serveRequest = handle(service.app);

export const handler: typeof serveRequest = async (event, context) => {
  const response = await serveRequest(event, context);
  await service.deps.usage.flushIfDue();
  return response;
};
