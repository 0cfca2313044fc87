/** The emulator's Secrets Manager rotation, seen and driven from code: its CloudTrail-like events, and due rotations started now (see moto_secrets_rotation.py). */
import { setTimeout as sleep } from 'node:timers/promises';
import { callLocalRoute } from './local-routes';

/** What CloudTrail logs for a rotation; RotationFailed also carries the failing step and the function's error. */
export type RotationEventName = 'RotationStarted' | 'RotationSucceeded' | 'RotationFailed' | 'RotationAbandoned';

export interface RotationEvent {
  /** Increases by one per event: pass the last one seen as `since` to get only newer ones. */
  readonly seq: number;
  /** ISO 8601. */
  readonly at: string;
  readonly eventName: RotationEventName;
  readonly secretArn: string;
  readonly secretName: string;
  /** The rotation's ClientRequestToken: the new version's id. */
  readonly versionId: string;
  readonly accountId: string;
  readonly region: string;
  /** `api`: RotateSecret. `schedule`: the rotation came due (the ticker, or {@link startDueRotations}). */
  readonly trigger?: 'api' | 'schedule';
  /** 1 for the first try of a rotation, then one more per retry. */
  readonly attempt?: number;
  /** True for the testSecret-only run of RotateSecret with RotateImmediately=false. */
  readonly testOnly?: boolean;
  /** RotationFailed: the step that failed. */
  readonly step?: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  /** RotationFailed: the function's errorType and errorMessage (`RotationIncomplete` when finishSecret left AWSCURRENT where it was). */
  readonly error?: { readonly type: string; readonly message: string };
  /** RotationFailed: whether Secrets Manager tries the rotation again; false means it gave up and AWSPENDING stays. */
  readonly willRetry?: boolean;
  /** RotationAbandoned: the version a manual PutSecretValue or UpdateSecret made AWSCURRENT. */
  readonly replacedByVersionId?: string;
}

export interface RotationEventQuery {
  /** Only this secret's events: its name or full ARN. */
  readonly secretId?: string;
  /** Only events with a greater `seq`. @default 0 */
  readonly since?: number;
  /** At most this many, the newest. @default all kept (the emulator keeps the last 10000) */
  readonly limit?: number;
}

/**
 * The emulator's rotation events, oldest first.
 *
 * @example
 * const events = await readRotationEvents(aws.endpoint, { secretId: 'keyroll/acme/ingest' });
 */
export async function readRotationEvents(endpoint: string, query: RotationEventQuery = {}): Promise<RotationEvent[]> {
  const answer = await callLocalRoute<{ events: RotationEvent[] }>(endpoint, 'secretsmanager/rotation-events', { query: { ...query } });
  return answer.events;
}

export interface WaitForRotationEventOptions extends RotationEventQuery {
  /** The event to wait for. */
  readonly eventName: RotationEventName;
  /** Only the rotation with this ClientRequestToken. */
  readonly versionId?: string;
  /** @default 20000 */
  readonly timeoutMs?: number;
}

/**
 * Polls the rotation events until one matches; rejects after `timeoutMs` with the events seen.
 *
 * @example
 * await waitForRotationEvent(aws.endpoint, { secretId: arn, versionId, eventName: 'RotationSucceeded' });
 */
export async function waitForRotationEvent(endpoint: string, options: WaitForRotationEventOptions): Promise<RotationEvent> {
  const { eventName, versionId, timeoutMs = 20_000, ...query } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await readRotationEvents(endpoint, query);
    const found = events.find((event) => event.eventName === eventName && (versionId === undefined || event.versionId === versionId));
    if (found) return found;
    if (Date.now() > deadline) {
      const seen = events.map((event) => `${event.eventName}${event.step ? `@${event.step}` : ''}`).join(', ') || 'none';
      throw new Error(`No ${eventName} for ${query.secretId ?? 'any secret'}${versionId ? ` version ${versionId}` : ''} within ${timeoutMs} ms; events seen: ${seen}.`);
    }
    await sleep(100);
  }
}

export interface DueRotations {
  readonly started: ReadonlyArray<{ readonly secretArn: string; readonly secretName: string; readonly versionId: string; readonly reattempt: boolean }>;
  /** Due, but not started: ROTATION_RUNNING or NO_CURRENT_VERSION. */
  readonly skipped: ReadonlyArray<{ readonly secretArn: string; readonly secretName: string; readonly reason: string }>;
}

/**
 * Starts now every rotation due by `asOf` (rotation enabled, NextRotationDate at or before it), as
 * the emulator's ticker does on its own every KEYROLL_LOCAL_SCHEDULER_TICK_SECONDS. Answers at once;
 * follow each rotation with {@link waitForRotationEvent}.
 *
 * @example
 * // Everything due within two days rotates now.
 * await startDueRotations(aws.endpoint, { asOf: new Date(Date.now() + 2 * 86_400_000) });
 */
export async function startDueRotations(endpoint: string, options: { readonly asOf?: Date } = {}): Promise<DueRotations> {
  return callLocalRoute<DueRotations>(endpoint, 'secretsmanager/rotate-due', {
    method: 'POST',
    body: options.asOf === undefined ? {} : { asOf: options.asOf.toISOString() },
  });
}
