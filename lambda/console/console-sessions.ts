/**
 * The console's server-side sessions and one-time sign-in links, in the keys table (CONSOLE#).
 * A session names the management key it acts as (tenant, key id, and the hash of the credential
 * that signed in), never the key itself; the browser holds only a random session id, and the
 * table only its SHA-256, so reading the table opens no session. A link is consumed by a
 * conditional delete, so two clicks race and exactly one of them signs in.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { consoleLinkItemKey, consoleSessionItemKey } from '../tables/table-layout';

/** A sign-in link works this long, once. */
export const SIGN_IN_LINK_TTL_MS = 10 * 60_000;
/** A session ends after this long without a request. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60_000;
/** …and after this long whatever its use: a stolen cookie is not good forever. */
export const SESSION_MAX_AGE_MS = 12 * 3600_000;
/** lastSeenAt is written at most this often, so browsing costs reads, not a write per page. */
const TOUCH_INTERVAL_MS = 60_000;

export interface ConsoleSession {
  /** SHA-256 (hex) of the cookie's value. */
  readonly hash: string;
  readonly tenant: string;
  readonly keyId: string;
  /** Which of the key's credentials signed in: the session ends when it stops opening the key. */
  readonly credentialHash: string;
  /** Sent back with every state change (CSRF); random per session. */
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export interface SignInLinkGrant {
  readonly tenant: string;
  readonly keyId: string;
  readonly credentialHash: string;
}

export interface ConsoleSessionsOptions {
  /** @default DEFAULT_IDLE_TIMEOUT_MS */
  readonly idleTimeoutMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const newToken = () => randomBytes(32).toString('base64url');
const ttlSeconds = (ms: number) => Math.ceil(ms / 1000) + 24 * 3600;

/** Constant-time comparison of two tokens. */
export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export class ConsoleSessions {
  readonly idleTimeoutMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: ConsoleSessionsOptions = {},
  ) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.clock = options.clock ?? Date.now;
  }

  /** Starts a session; the returned id goes into the cookie and nowhere else. */
  async create(grant: SignInLinkGrant): Promise<{ id: string; session: ConsoleSession }> {
    const id = newToken();
    const now = this.clock();
    const session: ConsoleSession = { hash: hashToken(id), ...grant, csrfToken: newToken(), createdAt: now, lastSeenAt: now };
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...consoleSessionItemKey(session.hash), ...sessionFields(session), ttl: ttlSeconds(now + SESSION_MAX_AGE_MS) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { id, session };
  }

  /** The live session for a cookie value, or undefined (unknown, idle too long, too old); touches it. */
  async get(id: string): Promise<ConsoleSession | undefined> {
    const hash = hashToken(id);
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: consoleSessionItemKey(hash), ConsistentRead: true }));
    if (!Item) return undefined;
    const session = sessionFromItem(hash, Item);
    const now = this.clock();
    if (now - session.lastSeenAt > this.idleTimeoutMs || now - session.createdAt > SESSION_MAX_AGE_MS) {
      await this.end(id);
      return undefined;
    }
    if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: consoleSessionItemKey(hash),
          UpdateExpression: 'SET lastSeenAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': now },
        }),
      ).catch((error: unknown) => {
        // Signed out meanwhile: the session is gone, which the next request finds.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
    }
    return { ...session, lastSeenAt: now };
  }

  async end(id: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: consoleSessionItemKey(hashToken(id)) }));
  }

  /** Mints a one-time sign-in link token (valid SIGN_IN_LINK_TTL_MS) for a management key. */
  async mintLink(grant: SignInLinkGrant): Promise<{ token: string; expiresAt: number }> {
    const token = newToken();
    const expiresAt = this.clock() + SIGN_IN_LINK_TTL_MS;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...consoleLinkItemKey(hashToken(token)), tenant: grant.tenant, keyId: grant.keyId, credentialHash: grant.credentialHash, expiresAt, ttl: ttlSeconds(expiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { token, expiresAt };
  }

  /** Uses up a link: its grant if it was unused and unexpired, else undefined. Exactly once. */
  async consumeLink(token: string): Promise<SignInLinkGrant | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: consoleLinkItemKey(hashToken(token)),
          ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
          ExpressionAttributeValues: { ':now': this.clock() },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (!Attributes) return undefined;
      return { tenant: String(Attributes.tenant), keyId: String(Attributes.keyId), credentialHash: String(Attributes.credentialHash) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

function sessionFields(session: ConsoleSession) {
  const { hash: _hash, ...fields } = session;
  return fields;
}

function sessionFromItem(hash: string, item: Record<string, unknown>): ConsoleSession {
  return {
    hash,
    tenant: String(item.tenant),
    keyId: String(item.keyId),
    credentialHash: String(item.credentialHash),
    csrfToken: String(item.csrfToken),
    createdAt: Number(item.createdAt),
    lastSeenAt: Number(item.lastSeenAt),
  };
}
