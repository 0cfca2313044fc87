/**
 * Counts requests, errors and last use per key in memory and writes them in batches, so the
 * request path never waits on a usage write. A failed flush keeps its counts for the next one.
 */
import type { KeyStore, UsageDelta } from '../store/key-store';

export interface UsageRecorderOptions {
  readonly store: Pick<KeyStore, 'recordUsage'>;
  /** How often pending usage is written; usage is visible in the store within about this long. @default 5000 */
  readonly flushIntervalMs?: number;
  /** Start a timer that flushes on its own (servers). Lambda calls {@link UsageRecorder.flushIfDue} instead. @default true */
  readonly autoFlush?: boolean;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly onFlushError?: (error: unknown) => void;
}

interface Pending {
  tenant: string;
  keyId: string;
  requests: number;
  errors: number;
  lastUsedAtMs: number;
}

export class UsageRecorder {
  private pending = new Map<string, Pending>();
  private lastFlushAt: number;
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly flushIntervalMs: number;
  private readonly clock: () => number;

  constructor(private readonly options: UsageRecorderOptions) {
    this.flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.clock = options.clock ?? Date.now;
    this.lastFlushAt = this.clock();
    if (options.autoFlush ?? true) {
      this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  record(tenant: string, keyId: string, isError: boolean, atMs: number = this.clock()): void {
    this.add({ tenant, keyId, requests: 1, errors: isError ? 1 : 0, lastUsedAtMs: atMs });
  }

  /** For Lambda, where timers freeze between invocations: flush at the end of a request when due. */
  async flushIfDue(): Promise<void> {
    if (this.clock() - this.lastFlushAt >= this.flushIntervalMs) await this.flush();
  }

  /** Writes everything pending. Never rejects; failures go to onFlushError and are retried next time. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.writePending().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private async writePending(): Promise<void> {
    this.lastFlushAt = this.clock();
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const deltas: UsageDelta[] = [...batch.values()].map((entry) => ({
      tenant: entry.tenant,
      keyId: entry.keyId,
      requests: entry.requests,
      errors: entry.errors,
      lastUsedAt: new Date(entry.lastUsedAtMs).toISOString(),
    }));
    // Only what failed goes back for the next flush: counts are additive, so a retry loses
    // nothing, and what was written is never written twice.
    let failed: readonly UsageDelta[];
    try {
      failed = await this.options.store.recordUsage(deltas);
    } catch (error) {
      failed = deltas;
      this.options.onFlushError?.(error);
    }
    for (const delta of failed) {
      this.add({ ...delta, lastUsedAtMs: Date.parse(delta.lastUsedAt) });
    }
    if (failed.length > 0 && failed !== deltas) {
      this.options.onFlushError?.(new Error(`${failed.length} of ${deltas.length} usage updates failed; they will be retried`));
    }
  }

  private add(usage: Pending): void {
    const entry = this.pending.get(usage.keyId);
    if (!entry) {
      this.pending.set(usage.keyId, { ...usage });
      return;
    }
    entry.requests += usage.requests;
    entry.errors += usage.errors;
    if (usage.lastUsedAtMs > entry.lastUsedAtMs) entry.lastUsedAtMs = usage.lastUsedAtMs;
  }
}
