/**
 * The fault matrix, Secrets Manager giving up (in-process against the emulator): after a failure or
 * a kill at any point of fault-matrix.ts, nothing retries. The sweep leaves the rotation alone
 * until the stuck limit, then repairs it: every consumer back on the current credential, the
 * pending credential dropped (it stops verifying), AWSPENDING removed, the status failed with the
 * reason, and the old (current) credential working throughout. Where Secrets Manager had already
 * moved AWSCURRENT, the sweep completes the cutover instead. A late retry of the repaired version
 * is refused and changes nothing; a later rotation starts clean.
 */
import { hashCredential } from '../../lambda/keys/credential-hash';
import { CASES, CONCURRENCY, expectRetiredAfterHorizon, expectRotated, type FaultCase, isRelease, runUntilFault, startCases } from './fault-matrix';
import { LEASE_MS, newToken, type RotationHarness, STUCK_AFTER_MS } from './rotation-fixture';

let outcomes: Map<string, Promise<void>>;
beforeAll(() => {
  outcomes = startCases(CASES, CONCURRENCY, givenUp);
});

it.each(CASES.map((c) => [c.name] as const))('%s', (name) => outcomes.get(name));

async function givenUp(h: RotationHarness, fault: FaultCase): Promise<void> {
  const key = await h.declareKey({ consumers: 2 });
  const token = newToken();
  await runUntilFault(h, key, token, fault);
  await h.assertNothingLost(key);
  const pending = (await h.secretVersion(key, token))?.apiKey;

  // Before the stuck limit, a rotation under way is left alone (SM may still be retrying it).
  // Only one whose AWSPENDING is gone counts as abandoned at once: in-process, nothing made the
  // empty AWSPENDING version that RotateSecret makes before createSecret, so a createSecret that
  // died before storing the credential leaves none.
  if (!fault.cutoverInSecret && (await h.labels(key)).pending === token) {
    h.advance(LEASE_MS);
    const early = await h.sweep();
    expect(early.outcomes.find((o) => o.name === key.spec.name)).toMatchObject({ action: 'waiting' });
  }

  h.advance(STUCK_AFTER_MS);
  const swept = await h.sweep();
  const outcome = swept.outcomes.find((o) => o.name === key.spec.name);
  await h.assertNothingLost(key);

  if (fault.cutoverInSecret) {
    if (fault.rule.match === isRelease) {
      // The rotation finished before the kill: the sweep only drains it, past the horizon by now.
      expect(outcome).toMatchObject({ action: 'retired' });
      expect(await h.verifies(key.firstCredential)).toBe(false);
      return;
    }
    // AWSCURRENT already moved: the sweep completes the cutover rather than undo it.
    expect(await h.verifies(key.firstCredential)).toBe(true);
    expect(outcome).toMatchObject({ action: 'finished' });
    const newCredential = await expectRotated(h, key, token);
    await expectRetiredAfterHorizon(h, key, newCredential);
    return;
  }

  expect(await h.verifies(key.firstCredential)).toBe(true);
  expect(outcome).toMatchObject({ action: 'repaired' });
  const oldHash = hashCredential(key.firstCredential);
  expect(await h.ruleHashes(key)).toEqual(key.rules.map(() => oldHash));
  expect(await h.labels(key)).toEqual({ current: key.firstVersionId, pending: undefined });
  const record = await h.keyRecord(key);
  expect({ current: record.credentialHash, pending: record.pendingCredential, grace: record.graceCredentials }).toEqual({ current: oldHash, pending: undefined, grace: [] });
  if (pending) expect(await h.verifies(pending)).toBe(false);
  const state = await h.state(key);
  expect(state).toMatchObject({ phase: 'idle', failure: { step: 'sweep', message: expect.stringContaining(token) } });
  const [status] = (await h.status()).filter((s) => s.name === key.spec.name);
  expect(status).toMatchObject({ phase: 'failed', failure: { code: expect.any(String), message: expect.any(String), fix: expect.any(String) } });
  expect((await h.records.listActive()).some((k) => k.name === key.spec.name)).toBe(false);
  await h.assertNoPlaintext(key, [JSON.stringify(status)]);

  // A late retry of the repaired version is refused: its credential was dropped for good. The
  // status keeps the repair's reason.
  const late = await h.runSteps(h.rotation(), key, token);
  expect(late).toMatchObject({ failedAt: 'createSecret', error: { code: 'STEP_OUT_OF_ORDER' } });
  expect(await h.state(key)).toEqual(state);
  if (pending) expect(await h.verifies(pending)).toBe(false);
  expect(await h.verifies(key.firstCredential)).toBe(true);

  // A later rotation starts clean from the repaired state.
  const next = newToken();
  expect(await h.runSteps(h.rotation(), key, next)).toEqual({});
  expect(await expectRotated(h, key, next)).not.toBe(pending);
  expect((await h.status()).find((s) => s.name === key.spec.name)?.phase).toBe('draining');
}
