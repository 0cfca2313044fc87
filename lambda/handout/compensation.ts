/**
 * Undoing a key the provisioner issued in a run that then failed, so no key nobody holds stays
 * valid. When the key replaced one that worked, the secret and the consumers already written get
 * the old key back first: consumers must never be left holding a revoked key.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ApiKeyRecord } from '../keys/key-record';
import type { KeyManager } from '../manage/key-manager';
import type { KeySecretValue } from '../provision/key-spec';
import type { ConsumerOwner } from './consumers/consumer-owner';
import type { ConsumerWriter } from './consumers/consumer-writer';
import type { WritableConsumer } from './consumers/registry';
import { describeError } from './errors';
import { isProvisioned, type KeyRef, refOf } from './key-ref';
import { writeKeySecret } from './key-secret';
import { type ProvisionedKeyStore, recordedKeys } from './provisioned-key';

export interface CompensationDeps {
  readonly secrets: SecretsManagerClient;
  readonly consumers: ConsumerWriter<WritableConsumer>;
  readonly manager: Pick<KeyManager, 'revoke'>;
  readonly log: Logger;
}

/** The keys a declaration's record names after another apply wrote it; `recorded` is undefined when it could not be read. */
export interface ConcurrentRecord {
  readonly recorded: readonly KeyRef[] | undefined;
}

/**
 * Tracks what a run handed its issued key to (`secretWritten`, `consumerWritten`) and, if the run
 * fails, undoes it (`run`).
 *
 * @example
 * const undo = new Compensation(deps, issued.record, secretArn, owner, previousSecretValue);
 * try { … undo.secretWritten(); … } catch (error) { const note = await undo.run(); throw … }
 */
export class Compensation {
  private wroteSecret = false;
  private readonly consumersWritten: WritableConsumer[] = [];

  constructor(
    private readonly deps: CompensationDeps,
    private readonly issued: ApiKeyRecord,
    private readonly secretArn: string,
    private readonly owner: ConsumerOwner,
    /** What the secret held before, when the issued key replaces a working one: it is written back. */
    private readonly previous: KeySecretValue | undefined,
  ) {}

  secretWritten(): void {
    this.wroteSecret = true;
  }

  consumerWritten(consumer: WritableConsumer): void {
    this.consumersWritten.push(consumer);
  }

  /**
   * Best effort throughout; returns what a human must finish by hand, if anything.
   *
   * After CONCURRENT_APPLY the other run owns the secret, the consumers and the record: they are left
   * alone, as writing the old key back could overwrite the key that run just handed out. The issued
   * key is left alone too when the record, as the other run left it, names it (that run found it
   * in the secret and adopted it, or will revoke it); otherwise nobody else knows of it, and it is
   * revoked, also when the record could not be read: a revoked key in a secret is replaced by the
   * next run, a valid key nobody knows of stays valid.
   */
  async run(concurrent?: ConcurrentRecord): Promise<string | undefined> {
    const { log, consumers, manager, secrets } = this.deps;
    const issued = refOf(this.issued);
    if (concurrent?.recorded && isProvisioned(issued, concurrent.recorded)) {
      log.warn('leaving the key this run issued to the concurrent apply, whose record names it', { keyId: issued.keyId });
      return undefined;
    }
    log.warn('undoing the key this run issued', { keyId: this.issued.id });
    const unfinished: string[] = [];
    const previous = this.previous;
    if (previous && !concurrent) {
      if (this.wroteSecret) {
        await this.attempt(() => writeKeySecret(secrets, this.secretArn, previous), () =>
          unfinished.push(`secret ${this.secretArn} holds revoked key ${this.issued.id}; re-run the apply to give it a working key`),
        );
      }
      for (const consumer of this.consumersWritten) {
        await this.attempt(() => consumers.write(consumer, previous.apiKey, this.owner), () =>
          unfinished.push(`${consumers.describe(consumer)} holds revoked key ${this.issued.id}; re-run the apply`),
        );
      }
    }
    await this.attempt(() => manager.revoke(this.issued.tenant, this.issued.id), () =>
      unfinished.push(
        `key ${this.issued.id} was issued but could not be revoked; revoke it with DELETE /v1/tenants/${this.issued.tenant}/api-keys/${this.issued.id}`,
      ),
    );
    if (unfinished.length === 0) log.warn('undone: the issued key is revoked', { keyId: this.issued.id });
    if (unfinished.length > 0) return `Undoing it did not finish: ${unfinished.join('; ')}.`;
    if (concurrent && (this.wroteSecret || this.consumersWritten.length > 0)) {
      return `If the other apply handed out its key first, secret ${this.secretArn} or the inline rules may now hold revoked key ${this.issued.id}; re-running this apply gives them a working key.`;
    }
    return undefined;
  }

  private async attempt(step: () => Promise<unknown>, onFailure: () => void): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.deps.log.error('undo step failed', { keyId: this.issued.id, reason: describeError(error) });
      onFailure();
    }
  }
}

/** The record as another apply left it, for `run` after CONCURRENT_APPLY. */
export async function concurrentRecord(store: ProvisionedKeyStore, tenant: string, name: string): Promise<ConcurrentRecord> {
  try {
    return { recorded: recordedKeys(await store.get(tenant, name)) };
  } catch {
    return { recorded: undefined };
  }
}
