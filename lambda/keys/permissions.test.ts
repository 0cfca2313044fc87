import fc from 'fast-check';
import { ALL_PERMISSIONS, firstMissingPermission, hasPermission, PERMISSION_PATTERN } from './permissions';

describe('permissions', () => {
  it('grants exact permissions, resource wildcards and the all-permissions wildcard', () => {
    expect(hasPermission(['telemetry:write'], 'telemetry:write')).toBe(true);
    expect(hasPermission(['telemetry:*'], 'telemetry:write')).toBe(true);
    expect(hasPermission(['*'], 'telemetry:write')).toBe(true);
    expect(hasPermission(['telemetry:read'], 'telemetry:write')).toBe(false);
    expect(hasPermission(['keys:*'], 'telemetry:write')).toBe(false);
    expect(hasPermission([], 'keys:manage')).toBe(false);
  });

  it('lets a wildcard be held only through an equal or wider wildcard', () => {
    expect(hasPermission(['billing:read'], 'billing:*')).toBe(false);
    expect(hasPermission(['billing:*'], 'billing:*')).toBe(true);
    expect(hasPermission(['billing:*', 'keys:*'], '*')).toBe(false);
    expect(hasPermission(['*'], '*')).toBe(true);
  });

  it('names the first permission a grant would exceed', () => {
    expect(firstMissingPermission(['keys:manage'], ['billing:*', 'keys:*'])).toBe('billing:*');
    expect(firstMissingPermission(['billing:*', 'keys:manage'], ['billing:read', 'keys:manage'])).toBeUndefined();
  });

  it('is transitive: what a holder of P covers, P covers too', () => {
    const permission = fc.oneof(
      fc.constant(ALL_PERMISSIONS),
      fc.tuple(fc.constantFrom('keys', 'billing', 'telemetry'), fc.constantFrom('read', 'write', 'manage', '*')).map(([r, a]) => `${r}:${a}`),
    );
    fc.assert(
      fc.property(fc.array(permission, { maxLength: 4 }), permission, permission, (granted, middle, leaf) => {
        if (hasPermission(granted, middle) && hasPermission([middle], leaf)) expect(hasPermission(granted, leaf)).toBe(true);
      }),
    );
  });

  it('accepts resource:action names and the all-permissions wildcard, and rejects others', () => {
    for (const ok of ['telemetry:write', 'customers:read', 'keys:*', 'a-b:c-d', '*']) expect(PERMISSION_PATTERN.test(ok)).toBe(true);
    for (const bad of ['telemetry', '**', '*:*', 'Telemetry:write', 'a:b:c', ':write', 'telemetry:']) expect(PERMISSION_PATTERN.test(bad)).toBe(false);
  });
});
