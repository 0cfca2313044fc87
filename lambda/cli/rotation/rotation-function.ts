/**
 * The CLI's client of the `keyroll-rotation` Lambda (lambda/rotate/): status and on-demand sweeps,
 * invoked synchronously (RequestResponse) with the events its handler takes. The rotation's state
 * and rules stay in the Lambda, which has the grants for them; the CLI only asks and prints.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { KeyRotationStatus } from '../../rotate/status-report';
import type { SweepReport } from '../../rotate/sweep';
import { type AwsTarget, awsFailure } from '../aws-target';
import { CliError } from '../cli-error';

/** As the platform stack names it (stacks/platform/rotation-function.ts ROTATION_FUNCTION_NAME). */
export const ROTATION_FUNCTION_NAME = 'keyroll-rotation';

/** KEYROLL_ROTATION_FUNCTION names another deployment's function (or a test's); else keyroll-rotation. */
export function rotationFunctionName(env: NodeJS.ProcessEnv = process.env): string {
  return env.KEYROLL_ROTATION_FUNCTION?.trim() || ROTATION_FUNCTION_NAME;
}

export class RotationFunction {
  private readonly lambda: LambdaClient;

  constructor(
    private readonly target: AwsTarget,
    readonly functionName: string = rotationFunctionName(),
  ) {
    // One attempt: a sweep is not something to send twice because an answer was slow.
    this.lambda = new LambdaClient({ ...(target.endpoint ? { endpoint: target.endpoint } : {}), maxAttempts: 1 });
  }

  /** Every declared key of `tenant`, where its rotation stands. */
  async status(tenant: string): Promise<KeyRotationStatus[]> {
    const answer = await this.invoke({ keyroll: 'status', tenant });
    if (!Array.isArray(answer)) throw this.unexpected('status');
    return answer as KeyRotationStatus[];
  }

  /** Runs the sweep now, as its schedule does every few minutes. */
  async sweep(): Promise<SweepReport> {
    const answer = (await this.invoke({ keyroll: 'sweep' })) as Partial<SweepReport> | undefined;
    if (!answer || !Array.isArray(answer.outcomes)) throw this.unexpected('sweep');
    return answer as SweepReport;
  }

  destroy(): void {
    this.lambda.destroy();
  }

  private async invoke(event: unknown): Promise<unknown> {
    const deploy = `deploy the platform first: \`${this.target.deployCommand}\``;
    let response;
    try {
      response = await this.lambda.send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) }));
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') {
        throw new CliError(
          'ROTATION_FUNCTION_NOT_FOUND',
          `No Lambda function ${this.functionName} on ${this.target.description}: the platform stack deploys it. To fix, ${deploy} (or set KEYROLL_ROTATION_FUNCTION to the function's name).`,
        );
      }
      throw awsFailure(error, `Invoking ${this.functionName} on ${this.target.description}`, `lambda:InvokeFunction on ${this.functionName}`);
    }
    const payload = parse(response.Payload);
    if (response.FunctionError) {
      const failure = (payload ?? {}) as { errorType?: string; errorMessage?: string };
      const what = failure.errorMessage ? `${failure.errorType ? `${failure.errorType}: ` : ''}${failure.errorMessage}` : `an error (${response.FunctionError})`;
      throw new CliError(
        'ROTATION_FUNCTION_FAILED',
        `${this.functionName} failed: ${sentence(what)} If the platform is not deployed on ${this.target.description}, or is older than this CLI, ${deploy}. The function's logs are in /aws/lambda/${this.functionName}.`,
      );
    }
    return payload;
  }

  private unexpected(kind: string): CliError {
    return new CliError(
      'ROTATION_FUNCTION_UNEXPECTED',
      `${this.functionName} answered the ${kind} request with something this CLI does not read: it is probably another version. Deploy the platform of this checkout: \`${this.target.deployCommand}\`.`,
    );
  }
}

/** `text`, ending in a full stop unless it ends a sentence already. */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function parse(payload: Uint8Array | undefined): unknown {
  if (!payload || payload.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
}
