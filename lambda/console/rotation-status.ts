/**
 * Where the console reads a declared key's rotation status: from the `keyroll-rotation` Lambda,
 * as `keyroll rotation status` does (`{"keyroll":"status","tenant":T}`). The rotation records stay
 * out of the key service's reach (table-layout.ts keeps ROTATION# out of SERVICE_PARTITIONS, so
 * the internet-facing service can never touch a lease); the service needs only
 * `lambda:InvokeFunction` on that one function. When it cannot be asked (not deployed, no grant,
 * slow), the page says so instead of failing.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { KeyRotationStatus } from '../rotate/status-report';

export type RotationStatusAnswer =
  | { readonly available: true; readonly statuses: readonly KeyRotationStatus[] }
  | { readonly available: false; readonly reason: string };

/** The port: every declared key of a tenant, where its rotation stands. */
export type RotationStatusSource = (tenant: string) => Promise<RotationStatusAnswer>;

export interface RotationFunctionSourceOptions {
  /** @default KEYROLL_ROTATION_FUNCTION, else keyroll-rotation */
  readonly functionName?: string;
  /** @default new LambdaClient({ maxAttempts: 1 }) with a 3 s request timeout */
  readonly lambda?: LambdaClient;
}

export function rotationFunctionSource(options: RotationFunctionSourceOptions = {}): RotationStatusSource {
  const functionName = options.functionName ?? (process.env.KEYROLL_ROTATION_FUNCTION?.trim() || 'keyroll-rotation');
  let lambda = options.lambda;
  return async (tenant) => {
    lambda ??= new LambdaClient({ maxAttempts: 1, requestHandler: { requestTimeout: 3000 } });
    try {
      const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify({ keyroll: 'status', tenant })) }));
      const payload = response.Payload ? JSON.parse(Buffer.from(response.Payload).toString('utf8')) : undefined;
      if (response.FunctionError || !Array.isArray(payload)) return { available: false, reason: `${functionName} did not answer with a status (${response.FunctionError ?? 'unexpected answer'})` };
      return { available: true, statuses: payload as KeyRotationStatus[] };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      return { available: false, reason: name === 'ResourceNotFoundException' ? `${functionName} is not deployed here` : `${functionName} could not be asked (${name})` };
    }
  };
}
