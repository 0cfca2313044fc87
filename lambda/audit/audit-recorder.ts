/**
 * Writes audit entries for the actions that make them, without ever failing those actions: the
 * action has already happened when its entry is written, so a failed or slow write is logged (by
 * entry id, action and key id; never the entry's strings) and the action answers as usual.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { redactKeys } from '../keys/key-format';
import type { ApiKeyRecord } from '../keys/key-record';
import { type AuditActor, type AuditEntry, type AuditLog, type AuditTarget, type EntryInput, auditEntry, keyChangeEntry, type RequestOrigin } from './audit-log';

/** How long an action waits for its entry to be written before it answers anyway. */
export const AUDIT_WRITE_BUDGET_MS = 300;

export interface AuditRecorderOptions {
  readonly log: AuditLog;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
  /** @default AUDIT_WRITE_BUDGET_MS */
  readonly budgetMs?: number;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

export interface KeyChange {
  /** The key as the change found it; absent on create. */
  readonly before?: ApiKeyRecord;
  readonly after: ApiKeyRecord;
  readonly actor: AuditActor;
  readonly origin?: RequestOrigin;
  readonly detail?: string;
}

export class AuditRecorder {
  private readonly budgetMs: number;
  private readonly clock: () => Date;

  constructor(private readonly options: AuditRecorderOptions) {
    this.budgetMs = options.budgetMs ?? AUDIT_WRITE_BUDGET_MS;
    this.clock = options.clock ?? (() => new Date());
  }

  /** Records a change of a key as the management action it is (none for changes that are no action). Never throws. */
  keyChanged(change: KeyChange): Promise<void> {
    let built: ReturnType<typeof keyChangeEntry>;
    try {
      built = keyChangeEntry(change, this.clock());
    } catch (error) {
      this.options.logger.error('audit entry could not be built; the action it records went ahead', { keyId: change.after.id, error: errorName(error) });
      return Promise.resolve();
    }
    return built ? this.write(built.entry, built.target) : Promise.resolve();
  }

  /** Records an event that is no plain key change (rotation steps, a rotation started through the API). Never throws. */
  event(input: EntryInput, target: AuditTarget): Promise<void> {
    return this.write(auditEntry(input, this.clock()), target);
  }

  private async write(entry: AuditEntry, target: AuditTarget): Promise<void> {
    const facts = { auditEntryId: entry.id, action: entry.action, tenant: entry.tenant, keyId: entry.keyId };
    const written = this.options.log.append(entry, target).then(
      () => 'written' as const,
      (error: unknown) => {
        this.options.logger.error('audit write failed; the action it records went ahead', { ...facts, error: errorName(error) });
        return 'failed' as const;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.budgetMs);
    });
    const outcome = await Promise.race([written, late]);
    clearTimeout(timer);
    // Not abandoned: the write goes on, and reports its own failure if it fails later.
    if (outcome === 'late') this.options.logger.warn('audit write is slower than its budget; answering without waiting for it', { ...facts, budgetMs: this.budgetMs });
  }
}

/** Name and message, masked and short: an SDK message may quote part of the request. */
function errorName(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const message = redactKeys(error.message);
  return `${error.name}: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}`;
}
