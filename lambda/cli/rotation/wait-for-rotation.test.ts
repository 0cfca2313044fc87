import type { KeyRotationStatus } from '../../rotate/status-report';
import { hasSettled, waitForRotations } from './wait-for-rotation';

const status = (name: string, phase: KeyRotationStatus['phase'], versionId?: string): KeyRotationStatus => ({
  tenant: 'acme',
  name,
  phase,
  rotationEnabled: true,
  ...(versionId ? { versionId } : {}),
});

describe('hasSettled', () => {
  it('only for the version started, once it left rotating', () => {
    expect(hasSettled(status('a', 'draining', 'v2'), 'v2')).toBe(true);
    expect(hasSettled(status('a', 'failed', 'v2'), 'v2')).toBe(true);
    expect(hasSettled(status('a', 'idle', 'v2'), 'v2')).toBe(true);
    expect(hasSettled(status('a', 'rotating', 'v2'), 'v2')).toBe(false);
    // The previous rotation still draining: not this one.
    expect(hasSettled(status('a', 'draining', 'v1'), 'v2')).toBe(false);
    expect(hasSettled(undefined, 'v2')).toBe(false);
  });
});

describe('waitForRotations', () => {
  it('polls until each rotation settles, saying so per key', async () => {
    const answers = [
      [status('a', 'draining', 'v1'), status('b', 'idle')],
      [status('a', 'rotating', 'a2'), status('b', 'rotating', 'b2')],
      [status('a', 'draining', 'a2'), status('b', 'rotating', 'b2')],
      [status('a', 'draining', 'a2'), status('b', 'failed', 'b2')],
    ];
    let calls = 0;
    const said: string[] = [];
    const result = await waitForRotations(
      async () => answers[Math.min(calls++, answers.length - 1)],
      [
        { tenant: 'acme', name: 'a', versionId: 'a2' },
        { tenant: 'acme', name: 'b', versionId: 'b2' },
      ],
      { timeoutMs: 10_000, intervalMs: 1, say: (line) => said.push(line) },
    );
    expect(calls).toBe(4);
    expect(result.unsettled).toEqual([]);
    expect(result.settled.map((s) => [s.name, s.phase])).toEqual([
      ['a', 'draining'],
      ['b', 'failed'],
    ]);
    expect(said[0]).toBe('Waiting for 2 rotations (at most 10 s) …');
    expect(said.slice(1).map((line) => line.split(':').slice(0, 2).join(':'))).toEqual(['acme/a: draining', 'acme/b: failed']);
  });

  it('gives up at the deadline and names what is still rotating', async () => {
    let now = 0;
    const said: string[] = [];
    const result = await waitForRotations(
      async () => {
        now += 6_000;
        return [status('a', 'rotating', 'a2')];
      },
      [{ tenant: 'acme', name: 'a', versionId: 'a2' }],
      { timeoutMs: 20_000, intervalMs: 1, say: (line) => said.push(line), now: () => now },
    );
    expect(result.unsettled).toEqual([{ tenant: 'acme', name: 'a', versionId: 'a2' }]);
    expect(said).toContain('… still rotating after 12 s: acme/a');
  });
});
