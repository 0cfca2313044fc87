/**
 * The permissions a tenant declares for its own services (keys.yaml `permissions:`), which keys
 * as code writes into the keys table as `pk = TENANT#<tenant>`, `sk = PERMISSIONS`. Read for key
 * creates and permission changes only, and cached briefly: a new declaration applies within a minute.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { declaredPermissionsItemKey } from '../tables/table-layout';

export { declaredPermissionsItemKey };

export interface DeclaredPermissionsOptions {
  /** How long a tenant's declaration is reused. @default 60000 */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

export class DeclaredPermissions {
  private readonly cache = new Map<string, { readonly at: number; readonly read: Promise<readonly string[] | undefined> }>();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DeclaredPermissionsOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.clock = options.clock ?? Date.now;
  }

  /** The tenant's declared permissions, or undefined when it declares none. */
  get(tenant: string): Promise<readonly string[] | undefined> {
    const now = this.clock();
    const cached = this.cache.get(tenant);
    if (cached && now - cached.at < this.ttlMs) return cached.read;
    const read = this.read(tenant);
    this.cache.set(tenant, { at: now, read });
    // A failed read is not remembered: the next request asks again.
    read.catch(() => {
      if (this.cache.get(tenant)?.read === read) this.cache.delete(tenant);
    });
    return read;
  }

  private async read(tenant: string): Promise<readonly string[] | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: declaredPermissionsItemKey(tenant) }));
    const permissions = Item?.permissions;
    return Array.isArray(permissions) && permissions.length > 0 ? permissions.map(String) : undefined;
  }
}
