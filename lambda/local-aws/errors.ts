/**
 * Why the local AWS emulator could not start, as errors with a stable code and a message that
 * says how to fix it. Factories keep the wording in one place.
 */

export type LocalAwsErrorCode = 'PYTHON_NOT_FOUND' | 'MOTO_MISSING' | 'PORT_IN_USE' | 'BIND_FAILED' | 'INVALID_SETTING' | 'EXITED' | 'START_TIMEOUT';

export class LocalAwsError extends Error {
  constructor(
    readonly code: LocalAwsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LocalAwsError';
  }
}

const MOTO_CHECK = 'Check with `python3 -c "import moto"`; install it with `pip install \'moto[server]\'`';

/** Appends what the emulator printed last, which usually names the real cause. */
function withOutput(message: string, output: readonly string[]): string {
  return output.length === 0 ? message : `${message}\nLast emulator output:\n  ${output.join('\n  ')}`;
}

export function pythonNotFound(python: string): LocalAwsError {
  return new LocalAwsError(
    'PYTHON_NOT_FOUND',
    `Cannot run \`${python}\` to start the local AWS emulator: it is not on PATH. Install Python 3 with moto, or set KEYROLL_PYTHON to an interpreter that has it. ${MOTO_CHECK}.`,
  );
}

export function motoMissing(python: string, detail: string): LocalAwsError {
  return new LocalAwsError('MOTO_MISSING', `\`${python}\` cannot load moto's server mode (${detail}). ${MOTO_CHECK} (moto 5.2.1 is the tested version).`);
}

export function portInUse(host: string, port: number): LocalAwsError {
  return new LocalAwsError(
    'PORT_IN_USE',
    `Port ${port} on ${host} is already in use, so the local AWS emulator cannot listen there. Stop the program holding it, choose another port (\`keyroll local-aws --port <n>\`), or use port 0 to pick a free one.`,
  );
}

export function bindFailed(host: string, port: number, detail: string): LocalAwsError {
  return new LocalAwsError('BIND_FAILED', `The local AWS emulator cannot listen on ${host}:${port}: ${detail}. Check that the host is an address of this machine.`);
}

/** The launcher's message already names the variable, its valid values and its default. */
export function invalidSetting(detail: string): LocalAwsError {
  return new LocalAwsError('INVALID_SETTING', `The local AWS emulator cannot start: ${detail}`);
}

export function exitedEarly(exit: string, output: readonly string[]): LocalAwsError {
  return new LocalAwsError('EXITED', withOutput(`The local AWS emulator exited while starting (${exit}). ${MOTO_CHECK}.`, output));
}

export function startTimeout(timeoutMs: number, output: readonly string[]): LocalAwsError {
  return new LocalAwsError(
    'START_TIMEOUT',
    withOutput(
      `The local AWS emulator did not answer within ${timeoutMs} ms. ${MOTO_CHECK}; on a slow machine, raise \`startTimeoutMs\`.`,
      output,
    ),
  );
}
