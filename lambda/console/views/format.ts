/** How the console words and formats a key's fields; pure, shared by the pages. */
import type { keyView } from '../../serve/views';

/** A key as the API shows it (after JSON). */
export type KeyView = ReturnType<typeof keyView>;

export const STATUS_LABELS: Record<string, string> = { active: 'Active', inactive: 'Inactive', expired: 'Expired', revoked: 'Revoked' };

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

/** "keys:manage, telemetry:write +2": enough to tell keys apart in a list. */
export function permissionsSummary(permissions: readonly string[], shown = 2): string {
  const head = permissions.slice(0, shown).join(', ');
  return permissions.length > shown ? `${head} +${permissions.length - shown}` : head;
}

export function rateLimitText(rateLimit: { limit: number; windowSeconds: number }): string {
  const window = rateLimit.windowSeconds === 60 ? 'min' : rateLimit.windowSeconds === 3600 ? 'h' : rateLimit.windowSeconds === 1 ? 's' : `${rateLimit.windowSeconds} s`;
  return `${rateLimit.limit.toLocaleString('en-US')} / ${window}`;
}

/** "2026-12-02 01:39 UTC"; a dash for never. */
export function timeText(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "3 min ago", for last use; the exact time goes in the element's title. */
export function agoText(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return 'Never';
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (seconds < 60) return 'Just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

export function countText(count: number): string {
  return count.toLocaleString('en-US');
}
