/** Reads the declared key (the spec item Terraform writes) from the keys table. */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { isKeyrollError } from '../errors';
import { parseInput } from '../validation';
import { awsCall, provisionErrors } from './errors';
import { type KeySpec, keySpecSchema, specItemKey } from './key-spec';

/**
 * The spec for a key, or undefined when there is none. Consistent, because Terraform wrote it
 * moments before invoking the provisioner. Throws INVALID_SPEC when the item does not parse.
 */
export async function readSpec(client: DynamoDBDocumentClient, tableName: string, tenant: string, name: string): Promise<KeySpec | undefined> {
  const { Item } = await awsCall(
    `Reading the spec of key \`${name}\` of tenant \`${tenant}\` from table ${tableName}`,
    "Check that KEYROLL_KEYS_TABLE names the keys table and that the provisioner's role may dynamodb:GetItem on it.",
    () => client.send(new GetCommand({ TableName: tableName, Key: specItemKey(tenant, name), ConsistentRead: true })),
  );
  if (!Item) return undefined;
  // Terraform writes the KeySpec fields as plain attributes beside the item's key and bookkeeping.
  const { pk: _pk, sk: _sk, kind: _kind, ...attributes } = Item;
  let spec: KeySpec;
  try {
    spec = parseInput(keySpecSchema, attributes, 'spec');
  } catch (error) {
    if (isKeyrollError(error)) throw provisionErrors.invalidSpec(tenant, name, error.message);
    throw error;
  }
  if (spec.tenant !== tenant || spec.name !== name) throw provisionErrors.specMismatch(tenant, name, spec);
  return spec;
}
