/**
 * keyroll-rotation as a Lambda function: Secrets Manager invokes it for each rotation step,
 * EventBridge Scheduler for the sweep, the CLI for status and on-demand sweeps. A thrown error
 * fails the invocation, which is how Secrets Manager learns a step failed (and retries).
 */
import { createRotationFunction, type RotationFunction } from './rotation-function';

let rotation: RotationFunction | undefined;

export async function handler(event: unknown, context?: { readonly awsRequestId?: string }): Promise<unknown> {
  rotation ??= createRotationFunction();
  return rotation.handle(event, context?.awsRequestId);
}
