/**
 * The fault matrix's points, shared by the two halves of the matrix (Secrets Manager retries, or
 * gives up): a failure or a kill (the process dies, its lease left held) at each step, after each
 * step, and between the two consumer updates; and the checks both halves make.
 */
import { hashCredential } from '../../lambda/keys/credential-hash';
import type { RotationStep } from '../../lambda/rotate/rotation-plan';
import { createRotationHarness, type DeclaredKeyFixture, Faults, type FaultRule, HORIZON_MS, type RotationHarness, USAGE_LAG_MS } from './rotation-fixture';

export const isRelease = (input: Record<string, unknown>) => String(input.UpdateExpression ?? '').startsWith('REMOVE leaseOwner');

export interface FaultCase {
  readonly name: string;
  /** Which step's run carries the fault (the steps before it run clean). */
  readonly step: RotationStep;
  readonly rule: FaultRule;
  /** Whether Secrets Manager's AWSCURRENT is on the new version once the fault hit. */
  readonly cutoverInSecret: boolean;
}

const kill = (command: string, nth: number, when: 'before' | 'after', match?: FaultRule['match']): FaultRule => ({ command, nth, when, kind: 'kill', ...(match ? { match } : {}) });
const fail = (command: string, nth: number, when: 'before' | 'after'): FaultRule => ({ command, nth, when, kind: 'fail' });
const afterStep = (step: RotationStep): FaultCase => ({ name: `killed after ${step} completed (its lease still held)`, step, rule: kill('UpdateItemCommand', 1, 'before', isRelease), cutoverInSecret: step === 'finishSecret' });

export const CASES: FaultCase[] = [
  { name: 'createSecret killed after recording the rotation, before storing a credential', step: 'createSecret', rule: kill('TransactWriteItemsCommand', 1, 'after'), cutoverInSecret: false },
  { name: 'createSecret: PutSecretValue fails', step: 'createSecret', rule: fail('PutSecretValueCommand', 1, 'before'), cutoverInSecret: false },
  { name: 'createSecret killed after PutSecretValue landed', step: 'createSecret', rule: kill('PutSecretValueCommand', 1, 'after'), cutoverInSecret: false },
  afterStep('createSecret'),
  { name: 'setSecret killed after the key accepted the pending credential, before any consumer', step: 'setSecret', rule: kill('TransactWriteItemsCommand', 1, 'after'), cutoverInSecret: false },
  { name: 'setSecret killed between the two consumer updates', step: 'setSecret', rule: kill('ReplaceTopicRuleCommand', 1, 'after'), cutoverInSecret: false },
  { name: 'setSecret: the second consumer update fails', step: 'setSecret', rule: fail('ReplaceTopicRuleCommand', 2, 'before'), cutoverInSecret: false },
  afterStep('setSecret'),
  { name: 'testSecret: reading the second consumer back fails', step: 'testSecret', rule: fail('GetTopicRuleCommand', 2, 'before'), cutoverInSecret: false },
  afterStep('testSecret'),
  { name: 'finishSecret killed after AWSCURRENT moved, before the key record followed', step: 'finishSecret', rule: kill('UpdateSecretVersionStageCommand', 1, 'after'), cutoverInSecret: true },
  { name: 'finishSecret: the answer to removing AWSPENDING is lost', step: 'finishSecret', rule: fail('UpdateSecretVersionStageCommand', 2, 'after'), cutoverInSecret: true },
  { name: 'finishSecret killed after the key record was promoted, before the rotation record', step: 'finishSecret', rule: kill('TransactWriteItemsCommand', 1, 'after'), cutoverInSecret: true },
  afterStep('finishSecret'),
];

export async function runUntilFault(h: RotationHarness, key: DeclaredKeyFixture, token: string, fault: FaultCase): Promise<Faults> {
  const faults = new Faults();
  const fn = h.rotation({ faults });
  const steps: RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
  for (const step of steps) {
    if (step === fault.step) faults.arm(fault.rule);
    try {
      await fn.handle({ Step: step, SecretId: key.secretArn, ClientRequestToken: token });
    } catch (error) {
      expect({ step, fired: faults.fired }).toEqual({ step: fault.step, fired: true });
      break;
    }
    // A kill right after a step's last call: the step answered nothing, so SM counts it failed.
    if (faults.fired) {
      expect(step).toBe(fault.step);
      break;
    }
  }
  expect(faults.fired).toBe(true);
  return faults;
}

export async function expectRotated(h: RotationHarness, key: DeclaredKeyFixture, token: string): Promise<string> {
  const current = (await h.secretAt(key, 'AWSCURRENT'))!;
  const newHash = hashCredential(current.apiKey);
  expect(current.apiKey).not.toBe(key.firstCredential);
  expect(await h.labels(key)).toEqual({ current: token, pending: undefined });
  expect(await h.ruleHashes(key)).toEqual(key.rules.map(() => newHash));
  const record = await h.keyRecord(key);
  expect({ current: record.credentialHash, pending: record.pendingCredential, grace: record.graceCredentials.map((g) => g.hash) }).toEqual({
    current: newHash,
    pending: undefined,
    grace: [hashCredential(key.firstCredential)],
  });
  const state = await h.state(key);
  expect(state).toMatchObject({ phase: 'draining', versionId: token, consumersVerified: key.rules.map((r) => `iot-rule-inline:${r.ruleName}`) });
  expect(state.retiring.map((r) => r.hash)).toEqual([hashCredential(key.firstCredential)]);
  // The grace the rotation record tracks is the key's own.
  expect(state.retiring[0].graceUntil).toBe(record.graceCredentials[0].validUntil);
  expect(await h.verifies(key.firstCredential)).toBe(true);
  return current.apiKey;
}

export async function expectRetiredAfterHorizon(h: RotationHarness, key: DeclaredKeyFixture, newCredential: string): Promise<void> {
  h.advance(HORIZON_MS + USAGE_LAG_MS);
  const swept = await h.sweep();
  expect(swept.outcomes.find((o) => o.name === key.spec.name)).toMatchObject({ action: 'retired' });
  expect(await h.verifies(key.firstCredential)).toBe(false);
  expect(await h.verifies(newCredential)).toBe(true);
  expect((await h.state(key)).phase).toBe('idle');
}


/**
 * Starts `run` for every case, `limit` at a time, each on a harness of its own (its own table and
 * clock); returns each case's outcome for its test to await. The cases wait on the emulator far
 * more than they compute, so running a few at once keeps the matrix short.
 */
/** Cases at once per file: the folder's two files run side by side, on 2 cores. */
export const CONCURRENCY = 3;

export function startCases(cases: readonly FaultCase[], limit: number, run: (h: RotationHarness, fault: FaultCase) => Promise<void>): Map<string, Promise<void>> {
  const queue = [...cases];
  const outcomes = new Map<string, Promise<void>>();
  const settle = new Map<string, { resolve: () => void; reject: (error: unknown) => void }>();
  for (const fault of cases) {
    const outcome = new Promise<void>((resolve, reject) => settle.set(fault.name, { resolve, reject }));
    // Awaited by its test; never an unhandled rejection meanwhile.
    outcome.catch(() => undefined);
    outcomes.set(fault.name, outcome);
  }
  const worker = async () => {
    for (let fault = queue.shift(); fault; fault = queue.shift()) {
      const h = await createRotationHarness();
      try {
        await run(h, fault);
        settle.get(fault.name)!.resolve();
      } catch (error) {
        settle.get(fault.name)!.reject(error);
      } finally {
        h.destroy();
      }
    }
  };
  for (let i = 0; i < limit; i++) void worker();
  return outcomes;
}
