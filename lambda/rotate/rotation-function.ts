/**
 * keyroll-rotation: one function for Secrets Manager's four rotation steps, the scheduled sweep and
 * the CLI's status. Builds its dependencies from the environment (or from what a test passes in)
 * and dispatches on the event.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AWS_CLIENT_CONFIG } from '../handout/aws-client-config';
import { type ConsumerClients, consumerClients, createConsumerWriter } from '../handout/consumers/registry';
import { KeyManager } from '../manage/key-manager';
import { AuditRecorder } from '../audit/audit-recorder';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbAuditLog } from '../store/dynamodb-audit-log';
import { DynamoDbKeyStore } from '../store/dynamodb-key-store';
import { tableNamesFromEnv } from '../tables/table-names';
import { declaredKeyNames, keyPort, secretPort, specPort } from './adapters';
import { serviceVerifier, storeVerifier } from './credential-verifier';
import { parseRotationEvent } from './rotation-event';
import { RotationRecordStore } from './rotation-record';
import { type RotationDeps, runStep } from './rotation-steps';
import { rotationStatusReport } from './status-report';
import { sweep, type SweepDeps } from './sweep';

export interface RotationFunctionOptions {
  /** @default createDocumentClient() */
  readonly documentClient?: DynamoDBDocumentClient;
  /** @default new SecretsManagerClient(AWS_CLIENT_CONFIG) */
  readonly secrets?: SecretsManagerClient;
  /** Clients of the consumer writers. @default each made with AWS_CLIENT_CONFIG */
  readonly consumerClients?: Partial<ConsumerClients>;
  /** @default KEYROLL_KEYS_TABLE */
  readonly keysTable?: string;
  /** Where testSecret verifies new credentials. @default KEYROLL_SERVICE_URL, else the key store */
  readonly serviceUrl?: string;
  /** @default KEYROLL_CONSUMER_CACHE_SECONDS × 1000, else 900 s */
  readonly horizonMs?: number;
  /** @default KEYROLL_ROTATION_STUCK_MINUTES × 60 000, else 30 minutes */
  readonly stuckAfterMs?: number;
  /** @default KEYROLL_USAGE_LAG_SECONDS × 1000, else 30 s */
  readonly usageLagMs?: number;
  /** How long a step waits for the key's lease held by another (see RotationDeps.leaseWaitMs). @default 10 000 */
  readonly leaseWaitMs?: number;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** @default new Logger({ serviceName: 'keyroll-rotation' }) */
  readonly logger?: Logger;
}

export interface RotationFunction {
  handle(event: unknown, requestId?: string): Promise<unknown>;
}

export function createRotationFunction(options: RotationFunctionOptions = {}, env: NodeJS.ProcessEnv = process.env): RotationFunction {
  const documentClient = options.documentClient ?? createDocumentClient();
  const keysTable = options.keysTable ?? tableNamesFromEnv(env).keys;
  const clock = options.clock ?? (() => new Date());
  const secrets = options.secrets ?? new SecretsManagerClient(AWS_CLIENT_CONFIG);
  const store = new DynamoDbKeyStore(documentClient, keysTable);
  const manager = new KeyManager({ store, clock });
  const writer = createConsumerWriter(consumerClients(options.consumerClients));
  const serviceUrl = options.serviceUrl ?? env.KEYROLL_SERVICE_URL;
  const logger = options.logger ?? new Logger({ serviceName: 'keyroll-rotation' });
  const base = {
    secrets: secretPort(secrets),
    keys: keyPort(manager),
    specs: specPort(documentClient, keysTable, writer),
    verifier: serviceUrl ? serviceVerifier(serviceUrl) : storeVerifier(store),
    records: new RotationRecordStore(documentClient, keysTable, () => clock().getTime()),
    log: logger,
    clock,
    audit: new AuditRecorder({ log: new DynamoDbAuditLog(documentClient, keysTable), logger, clock }),
  };
  const horizonMs = options.horizonMs ?? secondsFromEnv(env.KEYROLL_CONSUMER_CACHE_SECONDS, 900, 'KEYROLL_CONSUMER_CACHE_SECONDS') * 1000;
  const stuckAfterMs = options.stuckAfterMs ?? secondsFromEnv(env.KEYROLL_ROTATION_STUCK_MINUTES, 30, 'KEYROLL_ROTATION_STUCK_MINUTES') * 60_000;
  const usageLagMs = options.usageLagMs ?? secondsFromEnv(env.KEYROLL_USAGE_LAG_SECONDS, 30, 'KEYROLL_USAGE_LAG_SECONDS') * 1000;

  return {
    async handle(event, requestId = randomUUID()) {
      const parsed = parseRotationEvent(event);
      if (parsed.kind === 'step') {
        const deps: RotationDeps = { ...base, leaseOwner: `rotation:${requestId}`, ...(options.leaseWaitMs === undefined ? {} : { leaseWaitMs: options.leaseWaitMs }) };
        await runStep(deps, { step: parsed.step, secretId: parsed.secretId, token: parsed.token });
        return { step: parsed.step, versionId: parsed.token, ok: true };
      }
      if (parsed.kind === 'sweep') {
        const deps: SweepDeps = { ...base, leaseOwner: `sweep:${requestId}`, horizonMs, stuckAfterMs, usageLagMs };
        const report = await sweep(deps);
        logger.info('sweep done', { checked: report.checked, actions: report.outcomes.map((o) => `${o.tenant}/${o.name}:${o.action}`) });
        return report;
      }
      return rotationStatusReport(
        { records: base.records, secrets: base.secrets, keys: base.keys, declaredNames: (tenant) => declaredKeyNames(documentClient, keysTable, tenant) },
        parsed.tenant,
      );
    },
  };
}

function secondsFromEnv(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} is ${JSON.stringify(raw)}: give a number, 0 or more (default ${fallback}).`);
  return value;
}
