/**
 * The permissions a tenant declares for its own services (keys.yaml `permissions:`). Declaring
 * them turns a misspelt permission on a key into an error instead of a grant that matches nothing.
 * keyroll's own permissions, and the `resource:*` wildcards over any of them, are always known.
 */
import { z } from 'zod';
import { SERVICE_PERMISSIONS } from '../../lambda/keys/permission-registry';
import { ALL_PERMISSIONS, PERMISSION_PATTERN } from '../../lambda/keys/permissions';
import { type DeclarationIssue, issuesFromZod, quote } from './declaration-issue';

export const MAX_DECLARED_PERMISSIONS = 100;

const declaredPermissionSchema = z
  .string('must be a permission, e.g. customers:read')
  .regex(PERMISSION_PATTERN, 'must look like `resource:action` (lowercase), e.g. customers:read')
  .refine((p) => p !== ALL_PERMISSIONS, 'must be one permission: `*` stands for all of them, and keys may hold it without declaring it')
  .refine((p) => !p.endsWith(':*'), 'must be an action, e.g. billing:read: the wildcard billing:* is known once an action of billing is declared');

const declaredPermissionsSchema = z
  .array(declaredPermissionSchema, { error: 'must be a list of permissions, e.g. [customers:read, billing:read]' })
  .min(1, 'must declare at least one permission, or be removed')
  .max(MAX_DECLARED_PERMISSIONS, `must hold at most ${MAX_DECLARED_PERMISSIONS} permissions`);

/** Everything wrong with a declared list; paths are relative to the list (`[2]`). */
export function declaredPermissionsIssues(list: unknown): DeclarationIssue[] {
  const parsed = declaredPermissionsSchema.safeParse(list);
  const issues = parsed.success ? [] : issuesFromZod(parsed.error, list, declaredPermissionsSchema, () => 'the declared permissions');
  if (!Array.isArray(list)) return issues;
  list.forEach((permission, index) => {
    if (list.indexOf(permission) !== index) {
      issues.push({ code: 'DUPLICATE_PERMISSION', path: [index], problem: `is ${quote(permission)}, listed twice`, fix: 'remove one' });
    }
  });
  return issues;
}

/** The entries a key's permissions may be checked against: the well-formed ones, or undefined. */
export function usableDeclaredPermissions(list: unknown): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const usable = list.filter((p): p is string => declaredPermissionSchema.safeParse(p).success);
  return usable.length > 0 ? usable : undefined;
}

/** Indexes of entries that are keyroll's own: harmless, but not needed. */
export function redundantDeclaredPermissions(list: unknown): number[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((permission, index) => (SERVICE_PERMISSIONS.includes(permission) ? [index] : []));
}

/** Throws one Error naming the tenant and every problem in its declared list. */
export function validateDeclaredPermissions(tenant: string, list: readonly string[]): void {
  const issues = declaredPermissionsIssues(list);
  if (issues.length === 0) return;
  const lines = issues.map((issue) => `  - \`permissions${issue.path.map((i) => `[${i}]`).join('')}\` ${issue.problem} — ${issue.fix}`);
  throw new Error([`The permissions declared for tenant ${tenant} are invalid:`, ...lines].join('\n'));
}
