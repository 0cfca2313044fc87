/** Permission names (`resource:action`) and the rule for whether a key holds one. */

export const PERMISSION_PATTERN = /^[a-z][a-z0-9-]{0,31}:(?:[a-z][a-z0-9-]{0,31}|\*)$/;

/** Permissions the service itself checks; tenants may add their own for their own services. */
export const PERMISSIONS = {
  telemetryWrite: 'telemetry:write',
  keysManage: 'keys:manage',
} as const;

/** True when `granted` includes `required` itself or its resource wildcard (`telemetry:*`). */
export function hasPermission(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  const resource = required.slice(0, required.indexOf(':'));
  return granted.includes(`${resource}:*`);
}
