/**
 * A declared key's rotation record in the keys table (`ROTATION#<tenant>` / `<name>`): the rotation
 * state (rotation-plan.ts) and the key's lease. The lease keeps the four rotation steps, the sweep
 * and the provisioner's deploys of one key from interleaving: each takes it with a conditional write
 * that only succeeds when it is free, expired, or already its own; a process that dies holding it
 * blocks the key only until the lease expires. Every state write also expects the version it read,
 * so even a holder whose lease ran out cannot overwrite a newer state.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, paginateQuery, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ACTIVE_ROTATIONS_PARTITION, activeRotationItemKey, PARTITIONS, rotationItemKey } from '../tables/table-layout';
import { IDLE, inProgress, type RotationState } from './rotation-plan';

export interface RotationRecord {
  readonly tenant: string;
  readonly name: string;
  readonly state: RotationState;
  /** 0 when no record exists yet. */
  readonly version: number;
}

/** Thrown when another process holds the key's lease; the caller retries later (SM retries steps on its own). */
export class KeyBusyError extends Error {
  readonly code = 'KEY_BUSY';
  constructor(
    readonly tenant: string,
    readonly keyName: string,
    readonly holder: string,
    readonly untilMs: number,
  ) {
    super(
      `Key \`${keyName}\` of tenant \`${tenant}\` is busy: ${holder} holds its lease until ${new Date(untilMs).toISOString()}. ` +
        'A rotation step, a sweep or a deploy of this key is under way; retry after that time (a lease left by a crashed process expires on its own).',
    );
    this.name = 'KeyBusyError';
  }
}

/** Thrown when the state changed since it was read (a holder whose lease expired under it). */
export class RotationConflictError extends Error {
  readonly code = 'ROTATION_CONFLICT';
  constructor(tenant: string, name: string) {
    super(`The rotation record of key \`${name}\` of tenant \`${tenant}\` changed while this run held it; the run stops and the next one resumes from the stored state.`);
    this.name = 'RotationConflictError';
  }
}

export class RotationRecordStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(tenant: string, name: string): Promise<RotationRecord> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: rotationItemKey(tenant, name), ConsistentRead: true }));
    return recordFromItem(tenant, name, Item);
  }

  /** Every rotation record of a tenant, or of all tenants when none is given (status and sweep; one Query per tenant). */
  async list(tenants: readonly string[]): Promise<RotationRecord[]> {
    const records: RotationRecord[] = [];
    for (const tenant of tenants) {
      const pages = paginateQuery(
        { client: this.client },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${PARTITIONS.rotation}${tenant}` },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) for (const item of page.Items ?? []) records.push(recordFromItem(tenant, String(item.sk), item));
    }
    return records;
  }

  /**
   * Takes the key's lease for `owner` for `ttlMs`, creating the record if there is none. Taking a
   * lease one already holds extends it. Throws KeyBusyError when another owner holds it.
   */
  async acquire(tenant: string, name: string, owner: string, ttlMs: number): Promise<void> {
    const now = this.clock();
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: rotationItemKey(tenant, name),
          UpdateExpression: 'SET leaseOwner = :owner, leaseExpiresAt = :until, kind = :kind',
          ConditionExpression: 'attribute_not_exists(leaseExpiresAt) OR leaseExpiresAt <= :now OR leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner, ':until': now + ttlMs, ':now': now, ':kind': 'rotation' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: rotationItemKey(tenant, name), ConsistentRead: true }));
      throw new KeyBusyError(tenant, name, String(Item?.leaseOwner ?? 'another process'), Number(Item?.leaseExpiresAt ?? now));
    }
  }

  /** Gives the lease back if `owner` still holds it; a lease already taken over or expired is left alone. */
  async release(tenant: string, name: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: rotationItemKey(tenant, name),
          UpdateExpression: 'REMOVE leaseOwner, leaseExpiresAt',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Writes `state` if the record is still at `expectedVersion`, and returns the new version. In the
   * same transaction the key joins or leaves the index of rotations that need the sweep.
   */
  async save(tenant: string, name: string, state: RotationState, expectedVersion: number): Promise<number> {
    const version = expectedVersion + 1;
    const index = needsSweep(state)
      ? { Put: { TableName: this.tableName, Item: { ...activeRotationItemKey(tenant, name), kind: 'active-rotation', tenant, name } } }
      : { Delete: { TableName: this.tableName, Key: activeRotationItemKey(tenant, name) } };
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: rotationItemKey(tenant, name),
                UpdateExpression: 'SET #state = :state, #version = :version, kind = :kind',
                ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(#version)' : '#version = :expected',
                ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
                ExpressionAttributeValues: { ':state': state, ':version': version, ':kind': 'rotation', ...(expectedVersion === 0 ? {} : { ':expected': expectedVersion }) },
              },
            },
            index,
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) {
        throw new RotationConflictError(tenant, name);
      }
      throw error;
    }
    return version;
  }

  /** The keys whose rotation needs the sweep: one Query on the index, however many keys exist. */
  async listActive(): Promise<{ tenant: string; name: string }[]> {
    const found: { tenant: string; name: string }[] = [];
    const pages = paginateQuery(
      { client: this.client },
      { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': ACTIVE_ROTATIONS_PARTITION }, ConsistentRead: true },
    );
    for await (const page of pages) for (const item of page.Items ?? []) found.push({ tenant: String(item.tenant), name: String(item.name) });
    return found;
  }
}

/** Under way, draining, or failed: the sweep has something to check or repair. */
export function needsSweep(state: RotationState): boolean {
  return inProgress(state) || state.retiring.length > 0;
}

export interface LeaseWait {
  /**
   * How long to wait, in real time, for a lease another owner holds before throwing KeyBusyError.
   * Others hold it briefly (a step or a sweep of one key, well under a second), and a step that
   * fails on it costs a Secrets Manager retry, which may come much later. @default 0 (no wait)
   */
  readonly waitMs?: number;
  /** The first retry comes after this long, each next one after twice as long. @default 50 */
  readonly firstRetryMs?: number;
  /** The longest gap between two tries. @default 500 */
  readonly maxRetryMs?: number;
  /** Told once, when the lease is first found taken and the wait begins. */
  readonly onWait?: (busy: KeyBusyError) => void;
  /** Real time, whatever clock the caller works with. @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

const FIRST_LEASE_RETRY_MS = 50;
const MAX_LEASE_RETRY_MS = 500;

/**
 * Runs `work` holding the key's lease, and gives it back however `work` ends. With `wait`, a lease
 * another owner holds is tried again until `wait.waitMs` has passed.
 *
 * @example
 * await withKeyLease(records, 'acme', 'telemetry-ingest', `rotation:${requestId}`, 90_000, () => runStep(...));
 */
export async function withKeyLease<T>(
  records: RotationRecordStore,
  tenant: string,
  name: string,
  owner: string,
  ttlMs: number,
  work: () => Promise<T>,
  wait: LeaseWait = {},
): Promise<T> {
  await acquireWaiting(records, tenant, name, owner, ttlMs, wait);
  try {
    return await work();
  } finally {
    await records.release(tenant, name, owner).catch(() => undefined);
  }
}

async function acquireWaiting(records: RotationRecordStore, tenant: string, name: string, owner: string, ttlMs: number, wait: LeaseWait): Promise<void> {
  const sleep = wait.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = wait.now ?? Date.now;
  const deadline = now() + (wait.waitMs ?? 0);
  const maxRetryMs = wait.maxRetryMs ?? MAX_LEASE_RETRY_MS;
  for (let retryMs = wait.firstRetryMs ?? FIRST_LEASE_RETRY_MS, attempt = 1; ; retryMs = Math.min(retryMs * 2, maxRetryMs), attempt++) {
    try {
      await records.acquire(tenant, name, owner, ttlMs);
      return;
    } catch (error) {
      const left = deadline - now();
      if (!(error instanceof KeyBusyError) || left <= 0) throw error;
      if (attempt === 1) wait.onWait?.(error);
      await sleep(Math.min(retryMs, left));
    }
  }
}

function recordFromItem(tenant: string, name: string, item: Record<string, unknown> | undefined): RotationRecord {
  const state = (item?.state as RotationState | undefined) ?? IDLE;
  return {
    tenant,
    name,
    state: { ...IDLE, ...state, consumersVerified: state.consumersVerified ?? [], retiring: state.retiring ?? [] },
    version: typeof item?.version === 'number' ? item.version : 0,
  };
}
