/** Calls one of the emulator-only routes under /keyroll-local/ (keyroll_local_routes.py) and returns its JSON answer. */

/** A non-2xx answer of an emulator-only route: its stable code (such as SCHEDULE_NOT_FOUND) and message. */
export class LocalRouteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LocalRouteError';
  }
}

export async function callLocalRoute<T>(endpoint: string, path: string, init: { method?: 'GET' | 'POST'; query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(init.query ?? {})) if (value !== undefined) params.set(name, String(value));
  const url = `${endpoint}/keyroll-local/${path}${params.size > 0 ? `?${params}` : ''}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  if (!response.ok) {
    let answer: { code?: string; message?: string } = {};
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      // Not one of ours (e.g. a proxy's page): quoted below.
    }
    throw new LocalRouteError(response.status, answer.code ?? 'HTTP_ERROR', `${init.method ?? 'GET'} ${url} answered ${response.status}: ${answer.message ?? text}`);
  }
  return JSON.parse(text) as T;
}
