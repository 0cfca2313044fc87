/**
 * Which permissions exist, so a misspelt one (`telemetry:wrte`) is refused instead of silently
 * granting nothing. Known permissions are keyroll's own (the ones the service checks), the ones a
 * tenant declares for its own services (keys.yaml `permissions:`), the wildcards over either, and
 * `*`. A tenant that declares none may still use permissions of its own resources (`billing:read`),
 * but not a near miss of keyroll's (`telemtry:write`) or an action keyroll's resources lack.
 */
import { errors } from '../errors';
import { ALL_PERMISSIONS, PERMISSIONS } from './permissions';

/** Every permission the service itself checks. */
export const SERVICE_PERMISSIONS: readonly string[] = Object.values(PERMISSIONS);

const resourceOf = (permission: string) => permission.slice(0, permission.indexOf(':'));
const SERVICE_RESOURCES = new Set(SERVICE_PERMISSIONS.map(resourceOf));

export interface PermissionCheck {
  readonly permission: string;
  /** The closest known permission, when one is close enough to be what was meant. */
  readonly suggestion?: string;
}

/**
 * The known permissions for a tenant that declared `declared` (undefined: declared nothing),
 * wildcards included, sorted: what an error lists.
 */
export function knownPermissions(declared?: readonly string[]): string[] {
  const concrete = [...new Set([...SERVICE_PERMISSIONS, ...(declared ?? [])])];
  const wildcards = [...new Set(concrete.map((permission) => `${resourceOf(permission)}:*`))];
  return [ALL_PERMISSIONS, ...[...new Set([...concrete, ...wildcards])].sort()];
}

/** The permissions of `permissions` that are not known, each with a did-you-mean where one fits. */
export function unknownPermissions(permissions: readonly string[], declared?: readonly string[]): PermissionCheck[] {
  const known = knownPermissions(declared);
  const knownSet = new Set(known);
  return permissions
    .filter((permission) => {
      if (knownSet.has(permission)) return false;
      if (permission === ALL_PERMISSIONS || !permission.includes(':')) return true;
      const resource = resourceOf(permission);
      // keyroll's own resources have exactly the actions keyroll checks.
      if (SERVICE_RESOURCES.has(resource)) return true;
      // With a declaration, it is the whole list for the tenant's own resources.
      if (declared && declared.length > 0) return true;
      // Without one, a resource a typo away from keyroll's is taken for a typo of it (`telemtry`),
      // by the same measure as the did-you-mean, so short names of one's own (`kms`) stay free.
      return closest(resource, [...SERVICE_RESOURCES]) !== undefined;
    })
    .map((permission) => {
      const suggestion = closest(permission, known.filter((k) => k !== ALL_PERMISSIONS));
      return suggestion ? { permission, suggestion } : { permission };
    });
}

/** The nearest candidate within a third of the word's length (at least 1, at most 3 edits). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** Levenshtein distance, two rows at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Throws VALIDATION_ERROR naming the first unknown permission by its place in `where` (e.g.
 * `body.permissions.1`), with a did-you-mean and the known list.
 */
export function assertKnownPermissions(permissions: readonly string[], declared: readonly string[] | undefined, where: string): void {
  const [unknown] = unknownPermissions(permissions, declared);
  if (!unknown) return;
  const index = permissions.indexOf(unknown.permission);
  const hint = unknown.suggestion ? `Did you mean \`${unknown.suggestion}\`? ` : '';
  const source = declared?.length ? "keyroll's own and the tenant's declared ones" : "keyroll's own; a tenant declares its own in keys.yaml `permissions:`";
  throw errors.validation(
    `${where}.${index}`,
    `is \`${unknown.permission}\`, which is not a known permission`,
    `${hint}Known permissions (${source}): ${knownPermissions(declared).join(', ')}.`,
  );
}
