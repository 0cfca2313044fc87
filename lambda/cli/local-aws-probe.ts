/** Is an emulator answering at a loopback endpoint? And what to do when none is. */
import { CliError } from './cli-error';
import { emulatorPort } from './keyroll-dirs';

/** Any HTTP answer counts: moto answers every path, with whatever status. */
export async function localAwsAnswers(endpoint: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(endpoint, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

export function noLocalAws(endpoint: string): CliError {
  return new CliError(
    'LOCAL_AWS_UNREACHABLE',
    `No local AWS answers at ${endpoint}. Start one there with \`npx keyroll local-aws --port ${emulatorPort(endpoint)}\` in another terminal (or run \`npm start\`, which starts its own), then rerun; or point AWS_ENDPOINT_URL at one that runs.`,
  );
}
