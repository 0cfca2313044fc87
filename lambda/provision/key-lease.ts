/**
 * The provisioner's hold on a declared key's lease (lambda/rotate/rotation-record.ts), so a deploy
 * and a rotation of one key never interleave. Rotation steps and the sweep hold it for well under a
 * second, so an apply that finds it taken waits a little and tries again, and only fails (KEY_BUSY)
 * when the lease stays taken: a rotation stuck mid-step, another deploy, or a crashed holder whose
 * lease has not expired yet.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { handoutErrors } from '../handout/errors';
import { KeyBusyError, type RotationRecordStore, withKeyLease } from '../rotate/rotation-record';
import { provisionErrors } from './errors';

export interface KeyLeaseOptions {
  /** Who holds it, e.g. `provisioner:<request id>`. */
  readonly owner: string;
  /** How long the lease lasts if this run dies holding it. */
  readonly ttlMs: number;
  /** How long to wait for a taken lease before failing with KEY_BUSY. */
  readonly waitMs: number;
  readonly log: Pick<Logger, 'info'>;
  /** Real time, whatever clock the run works with: the wait is bounded by the function's timeout. @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** First retry after this long, doubling up to MAX_RETRY_MS: a rotation step ends in well under a second. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 1_000;

const LEASE_FIX = "Check that KEYROLL_KEYS_TABLE names the keys table and that the provisioner's role may dynamodb:UpdateItem and GetItem on it.";

/**
 * Runs `work` holding the key's lease, waiting up to `waitMs` for it; throws KEY_BUSY when it stays
 * taken. Only a busy lease is retried: whatever `work` throws leaves at once, the lease given back.
 *
 * @example
 * await holdingKeyLease(records, 'acme', 'sensors', { owner: 'provisioner:1', ttlMs: 90_000, waitMs: 20_000, log }, () => apply());
 */
export async function holdingKeyLease<T>(records: RotationRecordStore, tenant: string, name: string, options: KeyLeaseOptions, work: () => Promise<T>): Promise<T> {
  const now = options.now ?? Date.now;
  const started = now();
  let holding = false;
  try {
    return await withKeyLease(
      records,
      tenant,
      name,
      options.owner,
      options.ttlMs,
      () => {
        holding = true;
        return work();
      },
      {
        waitMs: options.waitMs,
        firstRetryMs: FIRST_RETRY_MS,
        maxRetryMs: MAX_RETRY_MS,
        now,
        ...(options.sleep ? { sleep: options.sleep } : {}),
        onWait: (busy) => options.log.info("waiting for the key's lease: a rotation step or another deploy of the key holds it", { holder: busy.holder }),
      },
    );
  } catch (error) {
    if (holding) throw error;
    if (error instanceof KeyBusyError) throw provisionErrors.keyBusy(tenant, name, now() - started, error.holder, error.untilMs);
    throw handoutErrors.awsRequestFailed(`Taking the lease of key \`${name}\` of tenant \`${tenant}\``, error, LEASE_FIX);
  }
}
