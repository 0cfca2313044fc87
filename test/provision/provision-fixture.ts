/**
 * The provisioner against the emulator: a keys table of its own, spec items written as Terraform
 * writes them, empty secrets as Terraform creates them, and events as aws_lambda_invocation sends them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTopicRuleCommand,
  GetTopicRuleCommand,
  type GetTopicRuleCommandOutput,
  IoTClient,
  ListTagsForResourceCommand,
  TagResourceCommand,
  type TopicRulePayload,
} from '@aws-sdk/client-iot';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Environment } from '../../lambda/keys/environments';
import { KeyManager } from '../../lambda/manage/key-manager';
import { consumerRuleSql, RULE_SQL_VERSION } from '../../lambda/provision/consumers/rule-sql';
import { type InlineIotRule, type KeySecretValue, type KeySpec, type ProvisionInput, specItemKey } from '../../lambda/provision/key-spec';
import { provisionedKeyItemKey } from '../../lambda/handout/provisioned-key';
import { createProvisioner, type Provisioner, type ProvisionerOptions } from '../../lambda/provision/provisioner';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { ensureLocalTables } from '../../lambda/store/local-tables';
import { KeyVerifier } from '../../lambda/verify/key-verifier';
import { uniqueName } from '../local-aws/fixtures';
import { uniqueTables } from '../support/service-harness';

export const TELEMETRY_URL = 'https://telemetry.keyroll.test/v1/telemetry';

export interface ProvisionFixture {
  readonly keysTable: string;
  readonly documentClient: DynamoDBDocumentClient;
  readonly secrets: SecretsManagerClient;
  readonly iot: IoTClient;
  readonly store: DynamoDbKeyStore;
  readonly manager: KeyManager;
  /** Every line the provisioner logged, to check that none holds a key. */
  readonly logLines: string[];
  /** A provisioner on this fixture's table; clients can be swapped, e.g. for one with an injected fault. */
  provisioner(overrides?: Partial<ProvisionerOptions>): Provisioner;
  putSpec(spec: KeySpec): Promise<void>;
  deleteSpec(tenant: string, name: string): Promise<void>;
  /** An empty secret, as `aws_secretsmanager_secret` leaves it; returns its ARN. */
  createSecret(): Promise<string>;
  readSecret(secretArn: string): Promise<KeySecretValue | undefined>;
  /** Verifies a key as the key service of that environment would. */
  verify(apiKey: string, environment: Environment): Promise<Awaited<ReturnType<KeyVerifier['verify']>>>;
  /** A rule made by hand; `tags` as CreateTopicRule takes them, e.g. `keyroll%3Akey=acme%2Fsensors`. */
  createRule(ruleName: string, payload: TopicRulePayload, tags?: string): Promise<void>;
  getRule(ruleName: string): Promise<GetTopicRuleCommandOutput | undefined>;
  /** A rule's tags as a plain object. */
  ruleTags(ruleName: string): Promise<Record<string, string>>;
  tagRule(ruleName: string, tags: Record<string, string>): Promise<void>;
  /** The provisioner's record for a key, as stored (`PROVISIONED#<tenant>`, `<name>`). */
  readRecord(tenant: string, name: string): Promise<Record<string, unknown> | undefined>;
  destroy(): void;
}

export async function createProvisionFixture(): Promise<ProvisionFixture> {
  const tables = uniqueTables();
  await ensureLocalTables(tables, new DynamoDBClient({}));
  const documentClient = createDocumentClient();
  const secrets = new SecretsManagerClient({});
  const iot = new IoTClient({});
  const store = new DynamoDbKeyStore(documentClient, tables.keys);
  const manager = new KeyManager({ store });
  const logLines: string[] = [];
  const logger = new Logger({ serviceName: 'keyroll-provisioner-test', logLevel: 'DEBUG' });
  // The logger writes through its own Console on stdout/stderr; keep the lines instead of printing them.
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      logLines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write);
  }
  return {
    keysTable: tables.keys,
    documentClient,
    secrets,
    iot,
    store,
    manager,
    logLines,
    provisioner: (overrides = {}) => createProvisioner({ documentClient, secrets, iot, keysTable: tables.keys, logger, ...overrides }),
    putSpec: async (spec) => {
      // Terraform's aws_dynamodb_table_item: the spec's fields as plain attributes beside pk/sk.
      await documentClient.send(new PutCommand({ TableName: tables.keys, Item: { ...specItemKey(spec.tenant, spec.name), kind: 'spec', ...spec } }));
    },
    deleteSpec: async (tenant, name) => {
      await documentClient.send(new DeleteCommand({ TableName: tables.keys, Key: specItemKey(tenant, name) }));
    },
    createSecret: async () => (await secrets.send(new CreateSecretCommand({ Name: uniqueName('keyroll/key') }))).ARN!,
    readSecret: async (secretArn) => {
      try {
        const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
        return JSON.parse(SecretString!) as KeySecretValue;
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    verify: async (apiKey, environment) => new KeyVerifier({ store, environment }).verify(apiKey),
    createRule: async (ruleName, payload, tags) => {
      await iot.send(new CreateTopicRuleCommand({ ruleName, topicRulePayload: payload, ...(tags ? { tags } : {}) }));
    },
    ruleTags: async (ruleName) => {
      const { ruleArn } = await iot.send(new GetTopicRuleCommand({ ruleName }));
      const { tags = [] } = await iot.send(new ListTagsForResourceCommand({ resourceArn: ruleArn }));
      return Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value ?? '']));
    },
    tagRule: async (ruleName, tags) => {
      const { ruleArn } = await iot.send(new GetTopicRuleCommand({ ruleName }));
      await iot.send(new TagResourceCommand({ resourceArn: ruleArn, tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
    },
    readRecord: async (tenant, name) =>
      (await documentClient.send(new GetCommand({ TableName: tables.keys, Key: provisionedKeyItemKey(tenant, name), ConsistentRead: true }))).Item,
    getRule: async (ruleName) => {
      try {
        return await iot.send(new GetTopicRuleCommand({ ruleName }));
      } catch (error) {
        if (['ResourceNotFoundException', 'UnauthorizedException'].includes((error as Error).name)) return undefined;
        throw error;
      }
    },
    destroy: () => {
      jest.restoreAllMocks();
      secrets.destroy();
      iot.destroy();
    },
  };
}

/** A spec as a keys-as-code stack would declare it. */
export function specOf(overrides: Partial<KeySpec> = {}): KeySpec {
  return {
    tenant: 'acme',
    name: uniqueName('sensors'),
    environment: 'production',
    permissions: ['telemetry:write'],
    rateLimit: { limit: 600, windowSeconds: 60 },
    tags: ['iot'],
    consumers: [],
    referenceRules: [],
    ...overrides,
  };
}

/** An inline consumer as api-key.ts declares one. */
export function inlineRule(overrides: Partial<InlineIotRule> = {}): InlineIotRule {
  return {
    type: 'iot-rule-inline',
    ruleName: uniqueName('telemetry_rule'),
    sql: consumerRuleSql('devices/+/telemetry'),
    sqlVersion: RULE_SQL_VERSION,
    url: TELEMETRY_URL,
    headerName: 'x-api-key',
    ...overrides,
  };
}

export function inputOf(spec: KeySpec, secretArn: string, specDigest = 'digest-1'): ProvisionInput {
  return { tenant: spec.tenant, name: spec.name, secretArn, specDigest };
}

/** The events aws_lambda_invocation sends with lifecycle_scope = "CRUD". */
export const events = {
  create: (input: ProvisionInput) => ({ ...input, tf: { action: 'create', prev_input: null } }),
  update: (input: ProvisionInput, previous: ProvisionInput) => ({ ...input, tf: { action: 'update', prev_input: previous } }),
  delete: (input: ProvisionInput) => ({ ...input, tf: { action: 'delete', prev_input: input } }),
};

/** The header an HTTP action sends to `url`, from a GetTopicRule answer. */
export function headerSentTo(rule: GetTopicRuleCommandOutput | undefined, url: string, headerName: string): string | undefined {
  const action = rule?.rule?.actions?.find((a) => a.http?.url === url);
  return action?.http?.headers?.find((h) => h.key === headerName)?.value;
}
