import { closest, editDistance, knownPermissions, unknownPermissions } from './permission-registry';

describe('permission registry', () => {
  it("refuses an action keyroll's own resources lack, suggesting the nearest", () => {
    expect(unknownPermissions(['telemetry:wrte', 'telemetry:write', 'keys:*'])).toEqual([{ permission: 'telemetry:wrte', suggestion: 'telemetry:write' }]);
    expect(unknownPermissions(['keys:admin'])).toEqual([{ permission: 'keys:admin' }]);
  });

  it("refuses a near miss of keyroll's resources even when the tenant declared nothing", () => {
    expect(unknownPermissions(['telemtry:write'])).toEqual([{ permission: 'telemtry:write', suggestion: 'telemetry:write' }]);
    expect(unknownPermissions(['billing:read', 'customers:*', 'kms:decrypt'])).toEqual([]);
    expect(unknownPermissions(['key:read'])).toEqual([{ permission: 'key:read' }]);
  });

  it('holds a tenant to its declared permissions once it declares some', () => {
    const declared = ['billing:read', 'customers:read'];
    expect(unknownPermissions(['billing:read', 'billing:*', 'customers:read'], declared)).toEqual([]);
    expect(unknownPermissions(['billing:raed', 'reports:read'], declared)).toEqual([{ permission: 'billing:raed', suggestion: 'billing:read' }, { permission: 'reports:read' }]);
    expect(knownPermissions(declared)).toEqual(['*', 'billing:*', 'billing:read', 'customers:*', 'customers:read', 'keys:*', 'keys:manage', 'telemetry:*', 'telemetry:read', 'telemetry:write']);
  });

  it('measures edits and suggests only close words', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('productoin', ['production', 'staging', 'development'])).toBe('production');
    expect(closest('qa', ['production', 'staging', 'development'])).toBeUndefined();
  });
});
