/**
 * RateLimitStore on one DynamoDB item per counter: `pk = RATELIMIT#<keyId>#<windowSeconds>s#<slices>`,
 * `sk = SLICES`, an attribute `s<slice>` per recent slice, a `version` guarding leases, and `ttl`.
 * DynamoDB conditions cannot add numbers, so a lease is optimistic: compute the grant from a known
 * version of the item, write it only if the version is still that one, re-read and retry otherwise.
 */
import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CounterState,
  EMPTY_COUNTER_STATE,
  type LeaseRequest,
  type LeaseResult,
  type RateLimitCounter,
  type RateLimitStore,
} from './rate-limit-store';
import { grantFor, staleSlices } from './sliding-window';

export interface DynamoDbRateLimitStoreOptions {
  /** Conditional writes tried per lease before giving up on a contended counter. @default 5 */
  readonly maxAttempts?: number;
}

const DEFAULTS: Required<DynamoDbRateLimitStoreOptions> = { maxAttempts: 5 };
const COUNTER_SK = 'SLICES';
const SLICE_ATTRIBUTE = /^s(\d+)$/;

export const counterItemKey = (counter: RateLimitCounter) => ({
  pk: `RATELIMIT#${counter.keyId}#${counter.windowSeconds}s#${counter.slicesPerWindow}`,
  sk: COUNTER_SK,
});

export class DynamoDbRateLimitStore implements RateLimitStore {
  private readonly options: Required<DynamoDbRateLimitStoreOptions>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbRateLimitStoreOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    if (!Number.isInteger(this.options.maxAttempts) || this.options.maxAttempts < 1) {
      throw new RangeError(`DynamoDbRateLimitStore: maxAttempts must be a whole number ≥ 1, got ${this.options.maxAttempts}.`);
    }
  }

  async lease(request: LeaseRequest): Promise<LeaseResult> {
    const span = request.counter.slicesPerWindow + 1;
    let state = request.known ?? EMPTY_COUNTER_STATE;
    // A full window in a remembered state may have freed since (hand-backs do not bump the version),
    // so "full" is only believed from a state read during this call.
    let fresh = false;
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      const granted = grantFor(state.counts, request.slice, request.wanted, request.limit, span);
      if (granted <= 0) {
        if (fresh) return { granted: 0, state, contended: false };
        state = await this.read(request.counter);
        fresh = true;
        continue;
      }
      try {
        return { granted, state: await this.write(request, state, granted, span), contended: false };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        state = error.Item ? stateFromAttributeValues(error.Item) : await this.read(request.counter);
        fresh = true;
        // Spread racing instances apart a little so they do not collide again in lockstep.
        if (attempt > 1) await sleep(Math.random() * 2 * attempt);
      }
    }
    return { granted: 0, state, contended: true };
  }

  /**
   * Hand-backs only lower counts, which can only make a racing lease more conservative, so they need no
   * version check (and do not bump it, sparing leasers a retry). The slice must still hold at least as many
   * tokens: a late hand-back after the slice was dropped must not leave a negative count behind.
   */
  async release(counter: RateLimitCounter, slice: number, count: number): Promise<void> {
    if (count <= 0) return;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: counterItemKey(counter),
          UpdateExpression: 'ADD #slice :minus',
          ConditionExpression: '#slice >= :count',
          ExpressionAttributeNames: { '#slice': `s${slice}` },
          ExpressionAttributeValues: { ':minus': -count, ':count': count },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  /** Raises counts, so it bumps the version: a lease computed before it must be recomputed. */
  async record(counter: RateLimitCounter, slice: number, count: number, expiresAtSeconds: number): Promise<void> {
    if (count <= 0) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: counterItemKey(counter),
        UpdateExpression: 'ADD #slice :count, #version :one SET #ttl = :ttl',
        ExpressionAttributeNames: { '#slice': `s${slice}`, '#version': 'version', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':count': count, ':one': 1, ':ttl': expiresAtSeconds },
      }),
    );
  }

  private async read(counter: RateLimitCounter): Promise<CounterState> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: counterItemKey(counter), ConsistentRead: true }),
    );
    return Item ? stateFromItem(Item) : EMPTY_COUNTER_STATE;
  }

  private async write(request: LeaseRequest, known: CounterState, granted: number, span: number): Promise<CounterState> {
    const names: Record<string, string> = { '#slice': `s${request.slice}`, '#version': 'version', '#ttl': 'ttl' };
    const values: Record<string, number> = { ':granted': granted, ':zero': 0, ':one': 1, ':ttl': request.expiresAtSeconds };
    const stale = staleSlices(known.counts, request.slice, span);
    stale.forEach((slice, i) => (names[`#stale${i}`] = `s${slice}`));
    const remove = stale.length ? ` REMOVE ${stale.map((_, i) => `#stale${i}`).join(', ')}` : '';
    // Version 0 means "no item seen": the write must then create it, or learn what is there.
    let condition = 'attribute_not_exists(pk)';
    if (known.version > 0) {
      condition = '#version = :version';
      values[':version'] = known.version;
    }
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: counterItemKey(request.counter),
        UpdateExpression: `SET #slice = if_not_exists(#slice, :zero) + :granted, #version = if_not_exists(#version, :zero) + :one, #ttl = :ttl${remove}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return Attributes ? stateFromItem(Attributes) : EMPTY_COUNTER_STATE;
  }
}

function stateFromItem(item: Record<string, unknown>): CounterState {
  const counts = new Map<number, number>();
  for (const [name, value] of Object.entries(item)) {
    const match = SLICE_ATTRIBUTE.exec(name);
    if (match) counts.set(Number(match[1]), Number(value));
  }
  return { version: Number(item.version ?? 0), counts };
}

/** The item a failed condition returns is not unmarshalled by the document client; only numbers matter here. */
function stateFromAttributeValues(item: Record<string, AttributeValue>): CounterState {
  const plain: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (value.N !== undefined) plain[name] = Number(value.N);
  return stateFromItem(plain);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
