/** Plain-text views of keys for the terminal: a table for lists, `field: value` lines for one key. */

/** What the CLI shows of a key; the API's key view (see lambda/serve/views.ts). */
export interface KeyView {
  readonly id: string;
  readonly name: string;
  readonly environment: string;
  readonly status: string;
  readonly permissions: readonly string[];
  readonly rateLimit: { readonly limit: number; readonly windowSeconds: number };
  readonly lastUsedAt: string | null;
  readonly requestCount: number;
  readonly [field: string]: unknown;
}

const COLUMNS: readonly [string, (key: KeyView) => string][] = [
  ['ID', (key) => key.id],
  ['NAME', (key) => key.name],
  ['ENVIRONMENT', (key) => key.environment],
  ['STATUS', (key) => key.status],
  ['PERMISSIONS', (key) => key.permissions.join(',')],
  ['RATE LIMIT', (key) => `${key.rateLimit.limit}/${key.rateLimit.windowSeconds}s`],
  ['LAST USED', (key) => key.lastUsedAt ?? 'never'],
  ['REQUESTS', (key) => String(key.requestCount)],
];

export function keyTable(keys: readonly KeyView[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...keys.map((key) => COLUMNS.map(([, cell]) => oneLine(cell(key))))];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return `${rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n')}\n`;
}

export function keyDetails(key: KeyView): string {
  const width = Math.max(...Object.keys(key).map((field) => field.length));
  return `${Object.entries(key)
    .filter(([field]) => field !== 'key')
    .map(([field, value]) => `${`${field}:`.padEnd(width + 2)}${oneLine(format(value))}`)
    .join('\n')}\n`;
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.length > 0 ? value.join(', ') : '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Names and tags are free text: a newline or control character must not forge table rows. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}
