/**
 * The fault matrix, Secrets Manager retrying (in-process against the emulator): after a failure or
 * a kill at any point of fault-matrix.ts, no credential is revoked early (the old one verifies) and
 * none is lost (what AWSCURRENT holds opens the key; every rule holds a credential that does).
 * SM's retry, the whole rotation again with the same token, converges to the end state of a clean
 * rotation, a second retry changes nothing more, and the sweep then retires the old credential.
 */
import { CASES, CONCURRENCY, expectRetiredAfterHorizon, expectRotated, type FaultCase, runUntilFault, startCases } from './fault-matrix';
import { LEASE_MS, newToken, type RotationHarness } from './rotation-fixture';

let outcomes: Map<string, Promise<void>>;
beforeAll(() => {
  outcomes = startCases(CASES, CONCURRENCY, retried);
});

it.each(CASES.map((c) => [c.name] as const))('%s', (name) => outcomes.get(name));

async function retried(h: RotationHarness, fault: FaultCase): Promise<void> {
  const key = await h.declareKey({ consumers: 2 });
  const token = newToken();
  await runUntilFault(h, key, token, fault);
  await h.assertNothingLost(key);
  expect(await h.verifies(key.firstCredential)).toBe(true);

  if (fault.rule.kind === 'kill') {
    // The dead run's lease holds the key until it expires: SM's first retry is refused, and changes nothing.
    const refused = await h.runSteps(h.rotation(), key, token);
    expect(refused).toMatchObject({ failedAt: 'createSecret', error: { code: 'KEY_BUSY' } });
    h.advance(LEASE_MS);
  }
  // SM's retry: the whole rotation again, same token. A second retry changes nothing more.
  expect(await h.runSteps(h.rotation(), key, token)).toEqual({});
  await h.assertNothingLost(key);
  const newCredential = await expectRotated(h, key, token);
  expect(await h.runSteps(h.rotation(), key, token)).toEqual({});
  expect(await expectRotated(h, key, token)).toBe(newCredential);

  await expectRetiredAfterHorizon(h, key, newCredential);
  await h.assertNoPlaintext(key);
}
