/**
 * The rotation's ports bound to AWS: Secrets Manager through the hand-out's label operations, key
 * records through the KeyManager, the spec from the keys table, consumers through the hand-out's
 * writers. The same adapters run in Lambda, on the emulator and in tests (which inject faults at
 * the AWS SDK clients they pass in).
 */
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { isKeyrollError } from '../errors';
import { awsCall } from '../handout/aws-errors';
import { consumerOwner } from '../handout/consumers/consumer-owner';
import { consumerId } from '../handout/consumers/consumer-ref';
import type { ConsumerWriter } from '../handout/consumers/consumer-writer';
import type { WritableConsumer } from '../handout/consumers/registry';
import { moveCurrentTo, putPendingVersion, readSecretVersion, removePendingLabel } from '../handout/key-secret';
import type { KeyManager } from '../manage/key-manager';
import { readSpec } from '../provision/spec-reader';
import { specItemKey } from '../tables/table-layout';
import type { DeclaredKey, KeyPort, SecretPort, SpecPort, WrittenConsumer } from './ports';

const DESCRIBE_FIX = "Check that the secret exists and that this function's role may secretsmanager:DescribeSecret on it.";

export function secretPort(secrets: SecretsManagerClient): SecretPort {
  return {
    async describe(secretId) {
      const described = await awsCall(`Describing secret ${secretId}`, DESCRIBE_FIX, () => secrets.send(new DescribeSecretCommand({ SecretId: secretId })));
      const stages = described.VersionIdsToStages ?? {};
      const holding = (label: string) => Object.keys(stages).find((id) => stages[id]?.includes(label));
      return {
        arn: described.ARN ?? secretId,
        name: described.Name ?? secretId,
        ...(holding('AWSCURRENT') ? { currentVersionId: holding('AWSCURRENT') } : {}),
        ...(holding('AWSPENDING') ? { pendingVersionId: holding('AWSPENDING') } : {}),
        rotationEnabled: described.RotationEnabled === true,
        ...(described.NextRotationDate ? { nextRotationDate: described.NextRotationDate.toISOString() } : {}),
        ...(described.LastRotatedDate ? { lastRotatedDate: described.LastRotatedDate.toISOString() } : {}),
      };
    },
    async read(secretArn, version) {
      const read = await readSecretVersion(secrets, secretArn, version);
      return read.status === 'present' ? read.value : undefined;
    },
    async putPending(secretArn, token, value) {
      await putPendingVersion(secrets, secretArn, token, value);
    },
    moveCurrentTo: (secretArn, token) => moveCurrentTo(secrets, secretArn, token),
    removePending: (secretArn, token) => removePendingLabel(secrets, secretArn, token),
  };
}

export function keyPort(manager: KeyManager): KeyPort {
  return {
    async get(tenant, keyId) {
      try {
        return await manager.get(tenant, keyId);
      } catch (error) {
        if (isKeyrollError(error) && error.code === 'NOT_FOUND') return undefined;
        throw error;
      }
    },
    addPending: (tenant, keyId, credential, token) => manager.addPending(tenant, keyId, credential, token),
    promotePending: (tenant, keyId, token, graceUntil) => manager.promotePending(tenant, keyId, token, graceUntil),
    async dropPending(tenant, keyId, token) {
      await manager.dropPending(tenant, keyId, token);
    },
    async retireGrace(tenant, keyId, hash) {
      await manager.retireGrace(tenant, keyId, hash);
    },
    credentialLastUsed: (hashes) => manager.credentialLastUsed(hashes),
  };
}

/** The spec from the keys table, its written consumers bound to the hand-out's writers. */
export function specPort(documentClient: DynamoDBDocumentClient, keysTable: string, writer: ConsumerWriter<WritableConsumer>): SpecPort {
  return {
    async read(tenant, name): Promise<DeclaredKey | undefined> {
      const spec = await readSpec(documentClient, keysTable, tenant, name);
      if (!spec) return undefined;
      const owner = consumerOwner({ tenant, name });
      const consumers: WrittenConsumer[] = spec.consumers.map((consumer) => {
        const writable = consumer as WritableConsumer;
        return {
          id: consumerId(consumer),
          write: async (credential) => {
            await writer.write(writable, credential, owner);
          },
          readBackHash: () => writer.readBackHash(writable),
        };
      });
      return {
        tenant,
        name,
        permissions: spec.permissions,
        graceMinutes: spec.rotation?.graceMinutes ?? 0,
        referenceRules: spec.referenceRules,
        consumers,
      };
    },
  };
}

/** The names of a tenant's declared keys: one Query on its spec partition. */
export async function declaredKeyNames(documentClient: DynamoDBDocumentClient, keysTable: string, tenant: string): Promise<string[]> {
  const names: string[] = [];
  const pages = paginateQuery(
    { client: documentClient },
    { TableName: keysTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': specItemKey(tenant, '').pk }, ProjectionExpression: 'sk' },
  );
  for await (const page of pages) names.push(...(page.Items ?? []).map((item) => String(item.sk)));
  return names;
}
