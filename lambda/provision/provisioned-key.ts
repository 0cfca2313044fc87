/**
 * The provisioner's own memory of what it last handed out for a declared key: which key, and which
 * inline rules it wrote that key into. Terraform's input carries ids only and the spec item is
 * already overwritten when an update runs, so this item is how stale rules and superseded keys
 * are found, including after an apply that failed half-way.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { awsCall } from './errors';

export interface ProvisionedKey {
  /** The tenant the key was issued in. */
  readonly tenant: string;
  readonly keyId: string;
  readonly secretArn: string;
  readonly inlineRuleNames: readonly string[];
  /** ISO-8601. */
  readonly provisionedAt: string;
}

/** Beside the spec, under the same name, so a tenant's keys, specs and this item share one partition. */
export const provisionedKeyItemKey = (tenant: string, name: string) => ({ pk: `TENANT#${tenant}`, sk: `PROVISIONED#${name}` });

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
      tenant: String(Item.tenant),
      keyId: String(Item.keyId),
      secretArn: String(Item.secretArn),
      inlineRuleNames: Array.isArray(Item.inlineRuleNames) ? Item.inlineRuleNames.map(String) : [],
      provisionedAt: String(Item.provisionedAt),
    };
  }

  async put(name: string, provisioned: ProvisionedKey): Promise<void> {
    await awsCall(`Recording what was provisioned for key \`${name}\` of tenant \`${provisioned.tenant}\``, FIX, () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...provisionedKeyItemKey(provisioned.tenant, name), kind: 'provisioned', ...provisioned, inlineRuleNames: [...provisioned.inlineRuleNames] },
        }),
      ),
    );
  }

  async delete(tenant: string, name: string): Promise<void> {
    await awsCall(`Forgetting what was provisioned for key \`${name}\` of tenant \`${tenant}\``, FIX, () =>
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: provisionedKeyItemKey(tenant, name) })),
    );
  }
}
