/**
 * The provisioner's own memory of what it handed out for a declared key: which key, which key it is
 * in the middle of handing out, and which consumers it wrote. Terraform's input carries ids only,
 * the secret can be pointed anywhere, and the spec item is already overwritten when an update runs,
 * so this record is the only thing the provisioner trusts to say which keys are its own: the keys
 * it keeps, regenerates and revokes, and the consumers it removes.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { provisionedKeyItemKey } from '../store/table-layout';
import { awsCall, awsErrorName } from './aws-errors';
import { parseConsumerRef } from './consumers/consumer-ref';
import type { ConsumerRef } from './consumers/consumer-writer';
import { handoutErrors, isHandoutError } from './errors';
import type { KeyRef } from './key-ref';

/** A key handed out before the current one. */
export interface SupersededKey extends KeyRef {
  /**
   * ISO-8601. Set when the key was replaced while consumers that cache the secret (reference rules)
   * may still send it: it keeps working until then (it expires then, too) and is revoked by the first
   * run after. Absent: revoked by the next run that hands a key out.
   */
  readonly expiresAt?: string;
}

export interface ProvisionedKey {
  /** The key the secret and the written consumers were last given. Absent until the first one was. */
  readonly current?: KeyRef;
  /**
   * A key issued but maybe not yet handed out: recorded before it is written anywhere, cleared once
   * it is current, so a run that dies half-way (timeout, crash) leaves no key nobody knows of.
   */
  readonly pending?: KeyRef;
  /**
   * Keys handed out before `current` that consumers may still hold (a run that died while moving
   * them to a new key, or a replaced key kept for the cache horizon): revoked once a run has handed
   * its key out and their `expiresAt`, if any, has passed. @default []
   */
  readonly superseded?: readonly SupersededKey[];
  /**
   * The written consumers the key was (or is about to be) written into, by ref. Records written
   * before other consumer types existed list inline rules as `inlineRuleNames`; they read as refs.
   */
  readonly consumers: readonly ConsumerRef[];
  /** ISO-8601. */
  readonly provisionedAt: string;
  /**
   * Bumped by every write, each of which expects the version its run last read or wrote: two
   * applies of one key (pipelines deploy concurrently) cannot overwrite each other's keys.
   * 0 for a record written before versions existed.
   */
  readonly version: number;
}

/** What a run writes; the store keeps the version. */
export type ProvisionedKeyFields = Omit<ProvisionedKey, 'version'>;

/** The version to expect when no record was read: the write must be the first. */
export const NO_RECORD_VERSION = 0;

/**
 * A partition of its own, apart from the `TENANT#…` partition the key service writes: the service's
 * IAM role may not touch it (see the platform stack), so it cannot steer the provisioner.
 */
export { provisionedKeyItemKey };

/** Every key a record names, current first: all of them were issued by the provisioner for this declaration. */
export function recordedKeys(record: ProvisionedKey | undefined): KeyRef[] {
  return [record?.current, record?.pending, ...(record?.superseded ?? [])].filter((ref): ref is KeyRef => ref !== undefined);
}

/** Whether `error` is the CONCURRENT_APPLY a record write throws when another run wrote the record in between. */
export function isConcurrentApply(error: unknown): boolean {
  return isHandoutError(error) && error.code === 'CONCURRENT_APPLY';
}

const FIX = "Check that KEYROLL_KEYS_TABLE names the keys table and that the provisioner's role may dynamodb:GetItem, PutItem and DeleteItem on it.";

export class ProvisionedKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenant: string, name: string): Promise<ProvisionedKey | undefined> {
    const { Item } = await awsCall(`Reading what was provisioned for key \`${name}\` of tenant \`${tenant}\``, FIX, () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: provisionedKeyItemKey(tenant, name), ConsistentRead: true })),
    );
    if (!Item) return undefined;
    return {
      ...keyRef('current', Item.keyTenant, Item.keyId),
      ...keyRef('pending', Item.pendingKeyTenant, Item.pendingKeyId),
      ...(Array.isArray(Item.supersededKeys) && Item.supersededKeys.length > 0 ? { superseded: Item.supersededKeys.map(supersededKeyOf) } : {}),
      consumers: consumerRefsOf(Item),
      provisionedAt: String(Item.provisionedAt),
      version: typeof Item.version === 'number' ? Item.version : NO_RECORD_VERSION,
    };
  }

  /**
   * Writes the record if it is still at `expectedVersion` (read with {@link get}, or returned by the
   * last put; {@link NO_RECORD_VERSION} when there was none), and returns its new version. Throws
   * CONCURRENT_APPLY when another run wrote it in between.
   */
  async put(tenant: string, name: string, provisioned: ProvisionedKeyFields, expectedVersion: number): Promise<number> {
    const { current, pending } = provisioned;
    const version = expectedVersion + 1;
    // Tells this write apart from another run's when its answer is lost and the SDK's retry then
    // fails the version check that the first attempt already passed.
    const writeId = randomUUID();
    await this.conditionally(tenant, name, `Recording what was provisioned for key \`${name}\` of tenant \`${tenant}\``, expectedVersion, (condition) =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...provisionedKeyItemKey(tenant, name),
            kind: 'provisioned',
            ...(current ? { keyTenant: current.tenant, keyId: current.keyId } : {}),
            ...(pending ? { pendingKeyTenant: pending.tenant, pendingKeyId: pending.keyId } : {}),
            ...(provisioned.superseded?.length
              ? { supersededKeys: provisioned.superseded.map(({ tenant: t, keyId, expiresAt }) => ({ tenant: t, keyId, ...(expiresAt ? { expiresAt } : {}) })) }
              : {}),
            consumers: provisioned.consumers.map((ref) => ({ ...ref })),
            provisionedAt: provisioned.provisionedAt,
            version,
            writeId,
          },
          ...condition,
        }),
      ),
      (item) => item?.writeId === writeId,
    );
    return version;
  }

  /** Deletes the record if it is still at `expectedVersion`; one already gone counts as deleted. */
  async delete(tenant: string, name: string, expectedVersion: number): Promise<void> {
    await this.conditionally(tenant, name, `Forgetting what was provisioned for key \`${name}\` of tenant \`${tenant}\``, expectedVersion, (condition) =>
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: provisionedKeyItemKey(tenant, name), ...condition })),
      (item) => item === undefined,
    );
  }

  /**
   * Runs a write under the version condition. When the condition fails, the record is read once:
   * `alreadyDone` says whether it is as this write would have left it (a retried write whose
   * first attempt landed, a delete of a record already gone); otherwise another run wrote it.
   */
  private async conditionally(
    tenant: string,
    name: string,
    what: string,
    expectedVersion: number,
    write: (condition: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, number> }) => Promise<unknown>,
    alreadyDone: (item: Record<string, unknown> | undefined) => boolean,
  ): Promise<void> {
    // A record from before versions existed has none: it counts as version 0, like no record.
    const condition =
      expectedVersion === NO_RECORD_VERSION
        ? { ConditionExpression: 'attribute_not_exists(#version)', ExpressionAttributeNames: { '#version': 'version' } }
        : { ConditionExpression: '#version = :expected', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':expected': expectedVersion } };
    try {
      await write(condition);
    } catch (error) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw handoutErrors.awsRequestFailed(what, error, FIX);
      const { Item } = await awsCall(`Reading what was provisioned for key \`${name}\` of tenant \`${tenant}\``, FIX, () =>
        this.client.send(new GetCommand({ TableName: this.tableName, Key: provisionedKeyItemKey(tenant, name), ConsistentRead: true })),
      );
      if (!alreadyDone(Item)) throw handoutErrors.concurrentApply(tenant, name);
    }
  }
}

function supersededKeyOf(ref: { tenant: unknown; keyId: unknown; expiresAt?: unknown }): SupersededKey {
  return { tenant: String(ref.tenant), keyId: String(ref.keyId), ...(typeof ref.expiresAt === 'string' ? { expiresAt: ref.expiresAt } : {}) };
}

/** The record's consumer refs; a record from before `consumers` lists only its inline rules, by name. */
function consumerRefsOf(item: Record<string, unknown>): ConsumerRef[] {
  if (Array.isArray(item.consumers)) return item.consumers.map(parseConsumerRef).filter((ref): ref is ConsumerRef => ref !== undefined);
  if (Array.isArray(item.inlineRuleNames)) return item.inlineRuleNames.map((ruleName) => ({ type: 'iot-rule-inline' as const, ruleName: String(ruleName) }));
  return [];
}

function keyRef<K extends 'current' | 'pending'>(field: K, tenant: unknown, keyId: unknown): { [P in K]?: KeyRef } {
  return typeof tenant === 'string' && typeof keyId === 'string' ? ({ [field]: { tenant, keyId } } as { [P in K]?: KeyRef }) : {};
}
