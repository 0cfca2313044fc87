/** Reads the declared key (the spec item Terraform writes) from the keys table. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { isKeyrollError } from '../errors';
import { parseInput } from '../validation';
import { awsCall } from '../handout/aws-errors';
import { isProvisionError, provisionErrors } from './errors';
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

/**
 * The spec for a delete. Terraform destroys the invocation before the spec it depends on, so the
 * spec is normally still there; if it is not (or no longer parses), undefined, and the caller deletes
 * the rules recorded as provisioned instead.
 */
export async function readSpecIfReadable(client: DynamoDBDocumentClient, tableName: string, tenant: string, name: string, log: Logger): Promise<KeySpec | undefined> {
  try {
    const spec = await readSpec(client, tableName, tenant, name);
    if (!spec) log.warn('no spec to read the inline rules from; deleting only the rules recorded as provisioned');
    return spec;
  } catch (error) {
    if (!isProvisionError(error) || error.code !== 'INVALID_SPEC') throw error;
    log.warn('the spec does not parse; deleting only the rules recorded as provisioned', { reason: error.message });
    return undefined;
  }
}
