import type { KeyrollError } from '../errors';
import { assertMayChange, assertMayIssue, assertMayRead, assertMayUpdate, isVisibleTo, type Manager } from './management-rules';

const manager = (overrides: Partial<Manager> = {}): Manager => ({ id: 'key_manager', environment: 'production', permissions: ['keys:manage', 'telemetry:*'], ...overrides });
const target = (overrides: Partial<Manager> = {}): Manager => ({ id: 'key_target', environment: 'production', permissions: ['telemetry:write'], ...overrides });
const refusal = (check: () => void) => {
  try {
    check();
  } catch (error) {
    return [(error as KeyrollError).code, (error as KeyrollError).message];
  }
  return undefined;
};

describe('management rules', () => {
  it('follows the environment ladder: production > staging > development', () => {
    for (const [own, reaches] of [
      ['production', ['production', 'staging', 'development']],
      ['staging', ['staging', 'development']],
      ['development', ['development']],
    ] as const) {
      for (const environment of ['production', 'staging', 'development'] as const) {
        const allowed = (reaches as readonly string[]).includes(environment);
        expect(isVisibleTo(manager({ environment: own }), { environment })).toBe(allowed);
        expect(refusal(() => assertMayRead(manager({ environment: own }), target({ environment })))?.[0]).toBe(allowed ? undefined : 'FORBIDDEN');
        expect(refusal(() => assertMayIssue(manager({ environment: own }), { environment, permissions: ['telemetry:write'] }))?.[0]).toBe(allowed ? undefined : 'FORBIDDEN');
      }
    }
  });

  it('keeps a customer-scoped manager to its customer', () => {
    const scoped = manager({ customerId: 'a' });
    expect(isVisibleTo(scoped, { environment: 'production', customerId: 'b' })).toBe(false);
    expect(isVisibleTo(scoped, { environment: 'production' })).toBe(false);
    expect(refusal(() => assertMayRead(scoped, target({ customerId: 'a' })))).toBeUndefined();
    expect(refusal(() => assertMayRead(scoped, target({ customerId: 'b' })))?.[0]).toBe('FORBIDDEN');
  });

  it('grants and changes only what the manager holds, naming what it lacks', () => {
    expect(refusal(() => assertMayIssue(manager(), { environment: 'production', permissions: ['telemetry:read', 'billing:*'] }))).toEqual([
      'INSUFFICIENT_PERMISSIONS',
      expect.stringContaining('`billing:*`'),
    ]);
    expect(refusal(() => assertMayChange(manager(), target({ permissions: ['keys:*'] })))).toEqual(['INSUFFICIENT_PERMISSIONS', expect.stringContaining('`keys:*`')]);
    expect(refusal(() => assertMayUpdate(manager(), target(), { permissions: ['*'] }))?.[1]).toContain('`*`');
    expect(refusal(() => assertMayUpdate(manager({ permissions: ['*'] }), target({ permissions: ['*'] }), { permissions: ['a:b'] }))).toBeUndefined();
  });

  it('never lets a key lift its own limits, whatever it holds', () => {
    const owner = manager({ permissions: ['*'] });
    const self = { ...owner };
    for (const input of [{ permissions: ['a:b'] }, { rateLimit: { limit: 1e9, windowSeconds: 1 } }, { enabled: true }, { expiresAt: null }]) {
      expect(refusal(() => assertMayUpdate(owner, self, input))?.[0]).toBe('INSUFFICIENT_PERMISSIONS');
    }
    expect(refusal(() => assertMayUpdate(owner, self, { name: 'renamed', tags: ['x'] }))).toBeUndefined();
    expect(refusal(() => assertMayChange(manager({ permissions: ['keys:manage'] }), { ...manager({ permissions: ['keys:manage'] }) }))).toBeUndefined();
  });
});
