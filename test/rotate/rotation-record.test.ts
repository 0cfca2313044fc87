/**
 * The rotation record and its lease on DynamoDB (emulator): one holder at a time, a crashed holder's
 * lease expires, a stale writer cannot overwrite a newer state, and the sweep's index holds exactly
 * the rotations that need it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { ensureLocalTables } from '../../lambda/store/local-tables';
import { afterRetirement, afterStep, IDLE, ROTATION_STEPS } from '../../lambda/rotate/rotation-plan';
import { KeyBusyError, RotationConflictError, RotationRecordStore, withKeyLease } from '../../lambda/rotate/rotation-record';
import { uniqueTables } from '../support/service-harness';

const tables = uniqueTables();
const documentClient = createDocumentClient();
let nowMs = Date.parse('2026-12-01T00:00:00Z');
const records = new RotationRecordStore(documentClient, tables.keys, () => nowMs);

beforeAll(async () => {
  await ensureLocalTables(tables, new DynamoDBClient({}));
});

describe('the key lease', () => {
  it('has one holder at a time; the holder may extend it; a released lease is free', async () => {
    await records.acquire('acme', 'a', 'rotation:1', 90_000);
    await records.acquire('acme', 'a', 'rotation:1', 90_000);
    await expect(records.acquire('acme', 'a', 'provisioner:2', 90_000)).rejects.toThrow(KeyBusyError);
    await expect(records.acquire('acme', 'a', 'provisioner:2', 90_000)).rejects.toThrow(/rotation:1 holds its lease until .*retry after that time/);
    await records.release('acme', 'a', 'rotation:1');
    await records.acquire('acme', 'a', 'provisioner:2', 90_000);
    await records.release('acme', 'a', 'provisioner:2');
  });

  it('expires, so a holder that crashed blocks the key only for the lease time', async () => {
    await records.acquire('acme', 'b', 'rotation:crashed', 60_000);
    nowMs += 59_999;
    await expect(records.acquire('acme', 'b', 'sweep:1', 60_000)).rejects.toThrow(KeyBusyError);
    nowMs += 1;
    await records.acquire('acme', 'b', 'sweep:1', 60_000);
    // The crashed holder coming back cannot release what is no longer its own.
    await records.release('acme', 'b', 'rotation:crashed');
    await expect(records.acquire('acme', 'b', 'other', 60_000)).rejects.toThrow(KeyBusyError);
  });

  it('gives the lease back when the work throws', async () => {
    await expect(withKeyLease(records, 'acme', 'c', 'rotation:3', 90_000, async () => Promise.reject(new Error('step failed')))).rejects.toThrow('step failed');
    await withKeyLease(records, 'acme', 'c', 'sweep:4', 90_000, async () => undefined);
  });

  it('lets exactly one of many concurrent takers in', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => records.acquire('acme', 'd', `taker:${i}`, 90_000)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });
});

describe('the rotation state', () => {
  it('reads as idle before any rotation, and is saved only over the version it was read at', async () => {
    const first = await records.get('acme', 'e');
    expect(first).toMatchObject({ version: 0, state: IDLE });
    const created = afterStep(first.state, 'createSecret', 'v1', new Date(nowMs), { keyId: 'key_1' });
    const version = await records.save('acme', 'e', created, first.version);
    await expect(records.save('acme', 'e', created, first.version)).rejects.toThrow(RotationConflictError);
    expect(await records.get('acme', 'e')).toMatchObject({ version, state: { phase: 'created', versionId: 'v1', keyId: 'key_1' } });
  });

  it('keeps the sweep index to the rotations under way or draining', async () => {
    let record = await records.get('acme', 'f');
    let state = IDLE;
    const listed = async () => (await records.listActive()).some((k) => k.tenant === 'acme' && k.name === 'f');
    for (const step of ROTATION_STEPS) {
      const retiring =
        step === 'finishSecret'
          ? { hash: 'old', start: 'kr_live_old', cutoverAt: new Date(nowMs).toISOString(), graceUntil: new Date(nowMs + 3_600_000).toISOString(), emergency: false }
          : undefined;
      state = afterStep(state, step, 'v1', new Date(nowMs), { keyId: 'key_1', retiring });
      await records.save('acme', 'f', state, record.version);
      record = await records.get('acme', 'f');
      expect(await listed()).toBe(true);
    }
    state = afterRetirement(state, state.retiring[0], 'drained', new Date(nowMs));
    await records.save('acme', 'f', state, record.version);
    expect(await listed()).toBe(false);
    expect((await records.get('acme', 'f')).state.phase).toBe('idle');
  });
});
