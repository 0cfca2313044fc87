/** Permission names (`resource:action`), the wildcards, and the rules for whether a key holds one. */

export const PERMISSION_PATTERN = /^(?:\*|[a-z][a-z0-9-]{0,31}:(?:[a-z][a-z0-9-]{0,31}|\*))$/;

/**
 * Holds every permission, present and future: the tenant's owner key (`keyroll bootstrap`). Only
 * a key holding it can grant it, so it exists once per tenant unless its holder hands it on.
 */
export const ALL_PERMISSIONS = '*';

/** Permissions the service itself checks; tenants may add their own for their own services. */
export const PERMISSIONS = {
  telemetryWrite: 'telemetry:write',
  /** Reading a tenant's telemetry back (`GET /v1/telemetry`, coming with IoT ingestion). */
  telemetryRead: 'telemetry:read',
  keysManage: 'keys:manage',
} as const;

/**
 * True when `granted` includes `required` itself, its resource wildcard (`telemetry:*`), or `*`.
 * `required` may itself be a wildcard: `telemetry:*` is held only through `telemetry:*` or `*`,
 * and `*` only through `*`, so a grant never covers more than the granter holds.
 */
export function hasPermission(granted: readonly string[], required: string): boolean {
  if (granted.includes(required) || granted.includes(ALL_PERMISSIONS)) return true;
  if (required === ALL_PERMISSIONS) return false;
  const resource = required.slice(0, required.indexOf(':'));
  return granted.includes(`${resource}:*`);
}

/** The first of `wanted` that `granted` does not cover, or undefined when it covers them all. */
export function firstMissingPermission(granted: readonly string[], wanted: readonly string[]): string | undefined {
  return wanted.find((permission) => !hasPermission(granted, permission));
}
