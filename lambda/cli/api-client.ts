/**
 * The CLI's client for the key service's HTTP API. Errors come back as CliError with the service's
 * code and message (which already say how to fix them); an unreachable service says what to start.
 */
import { CliError } from './cli-error';

export interface ApiClientOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** The management key, sent in `x-api-key`; never printed. */
  readonly key: string;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.options.url), {
        method,
        headers: { 'x-api-key': this.options.key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new CliError(
        'SERVICE_UNREACHABLE',
        `Cannot reach the key service at ${this.options.url} (${describeCause(error)}). Start it with \`npm start\` or \`npx keyroll serve\`, or point the CLI at it with --url or KEYROLL_URL.`,
      );
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (response.ok) return parsed as T;
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new CliError(error?.code ?? `HTTP_${response.status}`, error?.message ?? `The service answered ${response.status} ${response.statusText}.`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer within 15 s';
  return error instanceof Error ? error.message : String(error);
}
