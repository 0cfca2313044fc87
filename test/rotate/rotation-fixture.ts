/**
 * Rotation tests' setup: a declared key on the emulator exactly as the provisioner makes it (spec
 * item, secret `keyroll/<tenant>/<name>`, key, inline IoT rules), a rotation function built on it
 * in-process with faults injected at the AWS SDK, and the checks every test repeats (which
 * credentials verify, what every consumer holds, no plaintext anywhere).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetTopicRuleCommand, IoTClient, ListTagsForResourceCommand, TagResourceCommand } from '@aws-sdk/client-iot';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes, randomUUID } from 'node:crypto';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import type { ApiKeyRecord } from '../../lambda/keys/key-record';
import { readBackRuleHash } from '../../lambda/handout/consumers/iot-rule-inline';
import type { InlineIotRule, KeySecretValue, KeySpec } from '../../lambda/provision/key-spec';
import { createRotationFunction, type RotationFunction, type RotationFunctionOptions } from '../../lambda/rotate/rotation-function';
import { ROTATION_STEPS, type RotationState, type RotationStep } from '../../lambda/rotate/rotation-plan';
import { RotationRecordStore } from '../../lambda/rotate/rotation-record';
import type { SweepReport } from '../../lambda/rotate/sweep';
import type { KeyRotationStatus } from '../../lambda/rotate/status-report';
import { rotationItemKey } from '../../lambda/tables/table-layout';
import { KeyVerifier } from '../../lambda/verify/key-verifier';
import { createProvisioner, type Provisioner, type ProvisionerOptions } from '../../lambda/provision/provisioner';
import { specItemKey } from '../../lambda/provision/key-spec';
import { KeyManager } from '../../lambda/manage/key-manager';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { createTable } from '../../lambda/store/local-tables';
import { events, inlineRule, specOf } from '../provision/provision-fixture';

export const HORIZON_MS = 15 * 60_000;
export const GRACE_MINUTES = 60;
export const STUCK_AFTER_MS = 30 * 60_000;
export const LEASE_MS = 90_000;
export const USAGE_LAG_MS = 30_000;

/** Thrown by an injected fault; `landed` says whether the call reached the emulator first. */
export class InjectedFault extends Error {
  constructor(
    readonly command: string,
    readonly landed: boolean,
    readonly kill: boolean,
  ) {
    super(`${kill ? 'killed' : 'injected failure'} ${landed ? 'after' : 'before'} ${command}`);
    this.name = 'InjectedFault';
  }
}

export interface FaultRule {
  /** SDK command name, e.g. `ReplaceTopicRuleCommand`, `TransactWriteItemsCommand`. */
  readonly command: string;
  /** 1 = the first such call after arming. */
  readonly nth: number;
  /** `before`: the call never reaches AWS; `after`: it lands, and the answer is lost. */
  readonly when: 'before' | 'after';
  /** `fail`: that one call throws; `kill`: the process dies there, and every later call of this instance fails too (so not even the lease is given back). */
  readonly kind: 'fail' | 'kill';
  /** Only calls whose input this accepts count, e.g. the lease's release among UpdateItem calls. */
  readonly match?: (input: Record<string, unknown>) => boolean;
}

/**
 * Faults at the AWS SDK, on every client of one rotation-function instance. A `kill` models a
 * crashed Lambda: after it, nothing this instance sends reaches AWS.
 */
export class Faults {
  readonly calls: string[] = [];
  private readonly counts = new Map<string, number>();
  private rule?: FaultRule;
  killed = false;
  fired = false;

  arm(rule: FaultRule): this {
    this.rule = rule;
    this.counts.clear();
    return this;
  }

  attach<C extends { middlewareStack: { add: (...args: never[]) => void } }>(client: C): C {
    (client.middlewareStack as unknown as { add: (mw: unknown, options: unknown) => void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const command = context.commandName ?? 'unknown';
        if (this.killed) throw new InjectedFault(command, false, true);
        this.calls.push(command);
        const rule = this.rule;
        let fire = false;
        if (rule && !this.fired && rule.command === command && (!rule.match || rule.match(((args as { input?: Record<string, unknown> }).input ?? {})))) {
          const count = (this.counts.get(command) ?? 0) + 1;
          this.counts.set(command, count);
          fire = count === rule.nth;
        }
        if (fire && rule!.when === 'before') return this.fire(command, false);
        const result = await next(args);
        if (fire) return this.fire(command, true);
        return result;
      },
      { step: 'initialize', name: `keyrollFault-${randomUUID()}` },
    );
    return client;
  }

  private fire(command: string, landed: boolean): never {
    this.fired = true;
    if (this.rule!.kind === 'kill') this.killed = true;
    throw new InjectedFault(command, landed, this.rule!.kind === 'kill');
  }
}

export interface DeclaredKeyFixture {
  readonly spec: KeySpec;
  readonly rules: readonly InlineIotRule[];
  readonly secretArn: string;
  readonly keyId: string;
  /** The credential the provisioner issued. */
  readonly firstCredential: string;
  /** The secret version the provisioner wrote it to. */
  readonly firstVersionId: string;
}

export interface StepsOutcome {
  /** The step that threw, if any. */
  readonly failedAt?: RotationStep;
  readonly error?: Error;
}

/** The emulator's tables, clients and key store one harness works on (a keys table of its own). */
export interface HarnessWorld {
  readonly keysTable: string;
  readonly documentClient: DynamoDBDocumentClient;
  readonly secrets: SecretsManagerClient;
  readonly iot: IoTClient;
  readonly store: DynamoDbKeyStore;
  readonly manager: KeyManager;
  /** Every line logged in this test file (the Powertools logger writes to stdout), to check that none holds a credential. */
  readonly logLines: string[];
  /** The real provisioner on this table, at the harness's time. */
  provisioner(overrides?: Partial<ProvisionerOptions>): Provisioner;
  putSpec(spec: KeySpec): Promise<void>;
  tagRule(ruleName: string, tags: Record<string, string>): Promise<void>;
  /** A rule's tags as a plain object. */
  ruleTags(ruleName: string): Promise<Record<string, string>>;
}

export interface RotationHarness {
  readonly fx: HarnessWorld;
  readonly records: RotationRecordStore;
  /** The fake time every function and check of this harness uses. */
  now(): Date;
  advance(ms: number): void;
  /** Every credential seen so far, to check none is written where it must not be. */
  readonly credentialsSeen: Set<string>;
  declareKey(options?: { consumers?: number; spec?: Partial<KeySpec>; rules?: readonly InlineIotRule[] }): Promise<DeclaredKeyFixture>;
  /** A rotation function instance on this harness's table, its clients carrying `faults`. */
  rotation(options?: { faults?: Faults; overrides?: Partial<RotationFunctionOptions> }): RotationFunction;
  /** Plays Secrets Manager: the four steps in order for `token`, stopping at the first that throws. */
  runSteps(fn: RotationFunction, key: DeclaredKeyFixture, token: string): Promise<StepsOutcome>;
  sweep(fn?: RotationFunction): Promise<SweepReport>;
  status(tenant?: string): Promise<KeyRotationStatus[]>;
  /** Verifies `credential` with the key service's verifier at the harness's time (uncached). */
  verifies(credential: string): Promise<boolean>;
  /** The secret's value at AWSCURRENT, and at AWSPENDING (undefined: no such label or no value). */
  secretAt(key: DeclaredKeyFixture, stage: 'AWSCURRENT' | 'AWSPENDING'): Promise<KeySecretValue | undefined>;
  /** The value of one version of the secret, by id. */
  secretVersion(key: DeclaredKeyFixture, versionId: string): Promise<KeySecretValue | undefined>;
  /** Version ids holding each label. */
  labels(key: DeclaredKeyFixture): Promise<{ current?: string; pending?: string }>;
  keyRecord(key: DeclaredKeyFixture): Promise<ApiKeyRecord>;
  state(key: DeclaredKeyFixture): Promise<RotationState>;
  /** The rotation record as stored, raw. */
  rawRecord(key: DeclaredKeyFixture): Promise<Record<string, unknown> | undefined>;
  /** hashCredential of what each inline rule holds. */
  ruleHashes(key: DeclaredKeyFixture): Promise<(string | undefined)[]>;
  /** Every value any version of the secret holds (to learn each pending credential). */
  learnCredentials(key: DeclaredKeyFixture): Promise<void>;
  /**
   * Nothing lost: the credential AWSCURRENT holds opens the key, and every inline rule holds a
   * credential that opens it. Returns the hashes the rules hold.
   */
  assertNothingLost(key: DeclaredKeyFixture): Promise<void>;
  /** Fails when a seen credential appears in a log line, the rotation record, or any of `texts`. */
  assertNoPlaintext(key: DeclaredKeyFixture, texts?: readonly string[]): Promise<void>;
  destroy(): void;
}

/** A name valid as a key name and in `keyroll/<tenant>/<name>`. */
export function keyName(prefix = 'sensors'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The log lines of this test file: stdout and stderr are captured once, for every harness in it. */
let capturedLines: string[] | undefined;
let harnessesAlive = 0;
function captureLogs(): string[] {
  if (capturedLines) return capturedLines;
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write);
  }
  capturedLines = lines;
  return lines;
}

/**
 * A harness with its own keys table and its own fake clock, so several can run at once in a file
 * (a sweep sees every rotation in its table, at its own time).
 */
export async function createRotationHarness(options: { startAt?: Date } = {}): Promise<RotationHarness> {
  const keysTable = `t${randomBytes(4).toString('hex')}-keys`;
  const dynamo = new DynamoDBClient({});
  await createTable(dynamo, keysTable);
  dynamo.destroy();
  const documentClient = createDocumentClient();
  const store = new DynamoDbKeyStore(documentClient, keysTable);
  const secretsClient = new SecretsManagerClient({});
  const iotClient = new IoTClient({});
  const logLines = captureLogs();
  harnessesAlive += 1;
  const provisionLogger = new Logger({ serviceName: 'keyroll-provisioner-test', logLevel: 'DEBUG' });
  const fx: HarnessWorld = {
    keysTable,
    documentClient,
    secrets: secretsClient,
    iot: iotClient,
    store,
    manager: new KeyManager({ store, clock: () => new Date(nowMs) }),
    logLines,
    provisioner: (overrides = {}) =>
      createProvisioner({ documentClient, secrets: secretsClient, iot: iotClient, keysTable, logger: provisionLogger, clock: () => new Date(nowMs), ...overrides }),
    putSpec: async (spec) => {
      // As Terraform's aws_dynamodb_table_item writes it: the spec's fields beside pk/sk.
      await documentClient.send(new PutCommand({ TableName: keysTable, Item: { ...specItemKey(spec.tenant, spec.name), kind: 'spec', ...spec } }));
    },
    tagRule: async (ruleName, tags) => {
      const { ruleArn } = await iotClient.send(new GetTopicRuleCommand({ ruleName }));
      await iotClient.send(new TagResourceCommand({ resourceArn: ruleArn, tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
    },
    ruleTags: async (ruleName) => {
      const { ruleArn } = await iotClient.send(new GetTopicRuleCommand({ ruleName }));
      const { tags = [] } = await iotClient.send(new ListTagsForResourceCommand({ resourceArn: ruleArn }));
      return Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value ?? '']));
    },
  };
  let nowMs = (options.startAt ?? new Date()).getTime();
  const now = () => new Date(nowMs);
  const records = new RotationRecordStore(fx.documentClient, fx.keysTable, () => nowMs);
  const credentialsSeen = new Set<string>();
  const logger = new Logger({ serviceName: 'keyroll-rotation-test', logLevel: 'DEBUG' });
  const made: Array<{ destroy(): void }> = [];
  const sweeper = () => rotation();

  function rotation(opts: { faults?: Faults; overrides?: Partial<RotationFunctionOptions> } = {}): RotationFunction {
    const faults = opts.faults ?? new Faults();
    const dynamo = faults.attach(new DynamoDBClient({ maxAttempts: 1 }));
    const documentClient = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
    // One attempt each: a fault is the call's outcome, not something the SDK retries away.
    const secrets = faults.attach(new SecretsManagerClient({ maxAttempts: 1 }));
    const iot = faults.attach(new IoTClient({ maxAttempts: 1 }));
    made.push(dynamo, secrets, iot);
    return createRotationFunction(
      {
        documentClient,
        secrets,
        consumerClients: { iot },
        keysTable: fx.keysTable,
        clock: now,
        horizonMs: HORIZON_MS,
        stuckAfterMs: STUCK_AFTER_MS,
        usageLagMs: USAGE_LAG_MS,
        // The fake clock never lets a dead holder's lease expire while a step waits in real time.
        leaseWaitMs: 0,
        logger,
        ...opts.overrides,
      },
      {},
    );
  }

  const harness: RotationHarness = {
    fx,
    records,
    now,
    advance: (ms) => {
      nowMs += ms;
    },
    credentialsSeen,
    async declareKey(declare = {}) {
      const name = keyName();
      const rules = declare.rules ?? Array.from({ length: declare.consumers ?? 2 }, () => inlineRule());
      const spec = specOf({ name, consumers: [...rules], rotation: { everyDays: 30, graceMinutes: GRACE_MINUTES }, ...declare.spec });
      await fx.putSpec(spec);
      const { ARN } = await fx.secrets.send(new CreateSecretCommand({ Name: `keyroll/${spec.tenant}/${spec.name}` }));
      const input = { tenant: spec.tenant, name: spec.name, secretArn: ARN!, specDigest: 'digest-1' };
      const result = await fx.provisioner().handle(events.create(input));
      const secret = (await harness.secretAt({ secretArn: ARN! } as DeclaredKeyFixture, 'AWSCURRENT'))!;
      credentialsSeen.add(secret.apiKey);
      const { VersionIdsToStages: stages = {} } = await fx.secrets.send(new DescribeSecretCommand({ SecretId: ARN! }));
      const firstVersionId = Object.keys(stages).find((id) => stages[id]?.includes('AWSCURRENT'))!;
      return { spec, rules, secretArn: ARN!, keyId: result.keyId, firstCredential: secret.apiKey, firstVersionId };
    },
    rotation,
    async runSteps(fn, key, token) {
      for (const step of ROTATION_STEPS) {
        try {
          await fn.handle({ Step: step, SecretId: key.secretArn, ClientRequestToken: token });
        } catch (error) {
          return { failedAt: step, error: error as Error };
        }
      }
      return {};
    },
    async sweep(fn) {
      return (await (fn ?? sweeper()).handle({ keyroll: 'sweep' })) as SweepReport;
    },
    async status(tenant = 'acme') {
      return (await sweeper().handle({ keyroll: 'status', tenant })) as KeyRotationStatus[];
    },
    async verifies(credential) {
      const environment = 'production';
      const verification = await new KeyVerifier({ store: fx.store, environment, clock: () => nowMs }).verify(credential);
      return verification.ok;
    },
    async secretAt(key, stage) {
      try {
        const { SecretString } = await fx.secrets.send(new GetSecretValueCommand({ SecretId: key.secretArn, VersionStage: stage }));
        return SecretString ? (JSON.parse(SecretString) as KeySecretValue) : undefined;
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    async secretVersion(key, versionId) {
      try {
        const { SecretString } = await fx.secrets.send(new GetSecretValueCommand({ SecretId: key.secretArn, VersionId: versionId }));
        return SecretString ? (JSON.parse(SecretString) as KeySecretValue) : undefined;
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    async labels(key) {
      const { VersionIdsToStages: stages = {} } = await fx.secrets.send(new DescribeSecretCommand({ SecretId: key.secretArn }));
      const holding = (label: string) => Object.keys(stages).find((id) => stages[id]?.includes(label));
      return { current: holding('AWSCURRENT'), pending: holding('AWSPENDING') };
    },
    keyRecord: (key) => fx.manager.get(key.spec.tenant, key.keyId),
    async state(key) {
      return (await records.get(key.spec.tenant, key.spec.name)).state;
    },
    async rawRecord(key) {
      const { Item } = await fx.documentClient.send(
        new GetCommand({ TableName: fx.keysTable, Key: rotationItemKey(key.spec.tenant, key.spec.name), ConsistentRead: true }),
      );
      return Item;
    },
    async ruleHashes(key) {
      return Promise.all(key.rules.map((rule) => readBackRuleHash(fx.iot, rule)));
    },
    async learnCredentials(key) {
      const { Versions = [] } = await fx.secrets.send(new ListSecretVersionIdsCommand({ SecretId: key.secretArn, IncludeDeprecated: true }));
      for (const version of Versions) {
        try {
          const { SecretString } = await fx.secrets.send(new GetSecretValueCommand({ SecretId: key.secretArn, VersionId: version.VersionId }));
          const apiKey = SecretString ? (JSON.parse(SecretString) as Partial<KeySecretValue>).apiKey : undefined;
          if (apiKey) credentialsSeen.add(apiKey);
        } catch (error) {
          // A pending version before createSecret filled it has no value.
          if ((error as Error).name !== 'ResourceNotFoundException') throw error;
        }
      }
    },
    async assertNothingLost(key) {
      await harness.learnCredentials(key);
      const current = await harness.secretAt(key, 'AWSCURRENT');
      expect({ awsCurrentVerifies: current ? await harness.verifies(current.apiKey) : 'no AWSCURRENT' }).toEqual({ awsCurrentVerifies: true });
      const byHash = new Map([...credentialsSeen].map((credential) => [hashCredential(credential), credential]));
      const held = await harness.ruleHashes(key);
      for (const [index, hash] of held.entries()) {
        const credential = hash ? byHash.get(hash) : undefined;
        expect({ rule: key.rules[index].ruleName, verifies: credential ? await harness.verifies(credential) : `holds ${hash ?? 'nothing'}` }).toEqual({
          rule: key.rules[index].ruleName,
          verifies: true,
        });
      }
    },
    async assertNoPlaintext(key, texts = []) {
      await harness.learnCredentials(key);
      const record = JSON.stringify((await harness.rawRecord(key)) ?? {});
      const places = { record, logs: fx.logLines.join('\n'), texts: texts.join('\n') };
      for (const [where, text] of Object.entries(places)) {
        expect({ where, keys: text.match(KEY_PATTERN_GLOBAL) ?? [] }).toEqual({ where, keys: [] });
        for (const credential of credentialsSeen) {
          // The random part alone, so a redacted display prefix does not count.
          expect({ where, found: text.includes(credential.slice(12)) }).toEqual({ where, found: false });
        }
      }
    },
    destroy() {
      for (const client of [...made, secretsClient, iotClient]) client.destroy();
      harnessesAlive -= 1;
      if (harnessesAlive === 0 && capturedLines) {
        jest.restoreAllMocks();
        capturedLines = undefined;
      }
    },
  };
  return harness;
}

/** What a fresh SM version id looks like. */
export const newToken = () => randomUUID();

export { hashCredential };
