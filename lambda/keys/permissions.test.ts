import { hasPermission, PERMISSION_PATTERN } from './permissions';

describe('permissions', () => {
  it('grants exact permissions and resource wildcards only', () => {
    expect(hasPermission(['telemetry:write'], 'telemetry:write')).toBe(true);
    expect(hasPermission(['telemetry:*'], 'telemetry:write')).toBe(true);
    expect(hasPermission(['telemetry:read'], 'telemetry:write')).toBe(false);
    expect(hasPermission(['keys:*'], 'telemetry:write')).toBe(false);
    expect(hasPermission([], 'keys:manage')).toBe(false);
  });

  it('accepts resource:action names and rejects others', () => {
    for (const ok of ['telemetry:write', 'customers:read', 'keys:*', 'a-b:c-d']) expect(PERMISSION_PATTERN.test(ok)).toBe(true);
    for (const bad of ['telemetry', '*', 'Telemetry:write', 'a:b:c', ':write', 'telemetry:']) expect(PERMISSION_PATTERN.test(bad)).toBe(false);
  });
});
