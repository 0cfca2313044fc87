/**
 * The methods each route answers, read from the app's own route table, so a wrong method on a
 * known path gets 405 with `Allow` (RFC 9110 §15.5.6) instead of a 404, and new routes need no list.
 */

interface RouteEntry {
  readonly method: string;
  readonly path: string;
}

/** Returns, for a request path, the methods its route answers, or undefined when no route matches it. */
export function methodsByPath(routes: readonly RouteEntry[]): (path: string) => string[] | undefined {
  const byPattern = new Map<string, Set<string>>();
  for (const route of routes) {
    // Middleware is registered as ALL on wildcard paths; it answers nothing by itself.
    if (route.method === 'ALL' || route.path.includes('*')) continue;
    let methods = byPattern.get(route.path);
    if (!methods) byPattern.set(route.path, (methods = new Set()));
    methods.add(route.method);
    // Hono answers HEAD with the GET handler.
    if (route.method === 'GET') methods.add('HEAD');
  }
  const compiled = [...byPattern].map(([pattern, methods]) => ({
    regex: new RegExp(`^${pattern.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : escape(part))).join('/')}/?$`),
    methods: [...methods].sort(),
  }));
  return (path) => {
    const matched = compiled.filter(({ regex }) => regex.test(path));
    return matched.length > 0 ? [...new Set(matched.flatMap(({ methods }) => methods))].sort() : undefined;
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
