/**
 * Is a run aimed at the local emulator or at AWS? Decided from AWS_ENDPOINT_URL alone, the same way
 * by the CLI, the deploy runner and the stacks: a loopback endpoint is the emulator; anything else
 * (unset, a proxy, a VPC endpoint) is AWS, with every protection on.
 */

/** True for a loopback endpoint (`http://127.0.0.1:4566`, `http://localhost:…`, `http://[::1]:…`). */
export function isLocalEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === '[::1]';
  } catch {
    return false;
  }
}

/** AWS_ENDPOINT_URL when it is the emulator's; undefined when `env` points at AWS. */
export function localEndpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return isLocalEndpoint(env.AWS_ENDPOINT_URL) ? env.AWS_ENDPOINT_URL : undefined;
}

/**
 * The port of a loopback endpoint, which names the emulator: on this machine only one program can
 * listen on it, so `localhost:4566` and `127.0.0.1:4566` are the same emulator.
 */
export function emulatorPort(endpoint: string): number {
  const url = new URL(endpoint);
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** Is an emulator answering at `endpoint`? Any HTTP answer counts: moto answers every path, with whatever status. */
export async function localAwsAnswers(endpoint: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(endpoint, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** What to do when no emulator answers at `endpoint`; each program wraps it in its own error (code LOCAL_AWS_UNREACHABLE). */
export function noLocalAwsMessage(endpoint: string): string {
  return `No local AWS answers at ${endpoint}. Start one there with \`npx keyroll local-aws --port ${emulatorPort(endpoint)}\` in another terminal (or run \`npm start\`, which starts its own), then rerun; or point AWS_ENDPOINT_URL at one that runs.`;
}

/**
 * Points `env` at the emulator. It accepts any credentials, so harmless ones are set (the SDK and
 * Terraform would otherwise go looking); settings already present win.
 */
export function useLocalAwsDefaults(endpoint: string, env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_ENDPOINT_URL = endpoint;
  env.AWS_REGION ??= 'us-east-1';
  env.AWS_DEFAULT_REGION ??= env.AWS_REGION;
  env.AWS_ACCESS_KEY_ID ??= 'test';
  env.AWS_SECRET_ACCESS_KEY ??= 'test';
}

/**
 * The one local-defaults rule, applied before every `keyroll` command and every deploy: when
 * AWS_ENDPOINT_URL is a loopback endpoint (the emulator), region and test credentials default as
 * in {@link useLocalAwsDefaults}. Any other endpoint is AWS, and gets no defaults.
 * @returns whether `env` points at the emulator
 */
export function useLocalAwsDefaultsIfLocal(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = localEndpointFromEnv(env);
  if (!endpoint) return false;
  useLocalAwsDefaults(endpoint, env);
  return true;
}
