/**
 * Counts requests and errors per key, per minute and status class (for the key's usage series),
 * and last use per key (and per credential of the key) in memory, and writes them in batches, so the request path never waits on a usage write. Each write is a
 * delta with an id of its own, which the store applies once per id: a delta whose write failed, or
 * was abandoned half-way, is re-sent unchanged with its id, so it is neither lost nor counted twice
 * when the earlier attempt did land.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { ActiveKey, KeyActivity, RetiredUse } from '../alerts/alert-monitor';
import { type CredentialUse, type KeyStore, MAX_MINUTES_PER_DELTA, type UsageDelta, type UsageMinute } from '../store/key-store';
import { type BucketCounts, countStatus, emptyCounts } from './usage-series';

const MINUTE_MS = 60_000;

export interface UsageRecorderOptions {
  readonly store: Pick<KeyStore, 'recordUsage'>;
  /** How often pending usage is written; usage is visible in the store within about this long. @default 5000 */
  readonly flushIntervalMs?: number;
  /** Start a timer that flushes on its own (servers). Lambda calls {@link UsageRecorder.flushIfDue} instead. @default true */
  readonly autoFlush?: boolean;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly onFlushError?: (error: unknown) => void;
  /** Told after each flush's writes what the flushed keys did (sources, retired credentials), to raise alerts. */
  readonly monitor?: { afterFlush(activity: readonly KeyActivity[], abortSignal?: AbortSignal): Promise<void>; hasCarried(): boolean };
}

export interface FlushOptions {
  /**
   * The longest the caller waits. A flush still running then is abandoned: its writes are aborted
   * and its deltas kept, with their ids, for the next flush. @default no limit
   */
  readonly budgetMs?: number;
}

/** Source IPs kept per key between flushes; more in one batch are dropped (a flood needs no list of every address). */
const MAX_SOURCES_PER_BATCH = 64;

interface Counts {
  key: ActiveKey;
  /** Minute start (epoch ms) → that minute's counts: a batch spans a minute or two, so a handful. */
  minutes: Map<number, BucketCounts>;
  /** The minute counted into last, and its counts: most requests fall in it and skip the map. */
  currentMinuteMs: number;
  current: BucketCounts | undefined;
  lastUsedAtMs: number;
  /** Credential hash → its latest use: only credentials that opened the key, so a handful at most (current, pending, 3 in grace). */
  credentials: Map<string, number> | undefined;
  /** Source IPs of the requests since the last flush, for the new-source alert. */
  sources: Set<string> | undefined;
  /** Credentials the key no longer accepts, presented since the last flush. */
  retired: Map<string, { uses: number; lastSourceIp?: string }> | undefined;
}

interface Flush {
  readonly done: Promise<void>;
  readonly abort: AbortController;
}

export class UsageRecorder {
  /** New counts per key, merged as requests come in. */
  private pending = new Map<string, Counts>();
  /**
   * Per key, the delta sent but not known to be applied. It is re-sent exactly as it is until it
   * is: merging new counts into it would give a write that may already have landed new contents.
   * New counts of that key wait in `pending` meanwhile, so each key holds at most two entries.
   */
  private readonly unsettled = new Map<string, UsageDelta>();
  private flushing: Flush | undefined;
  private lastFlushAt: number;
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

  /**
   * A request by `key`, presented as the credential with `credentialHash` (when it is known),
   * answered with HTTP `status` (a refusal counts with the status it is refused with), from
   * `sourceIp` (when the route tracks sources).
   */
  recordUse(key: ActiveKey, credentialHash: string | undefined, status: number, sourceIp?: string): void {
    const entry = this.count(key, status, this.clock(), credentialHash);
    if (sourceIp === undefined) return;
    const sources = (entry.sources ??= new Set());
    if (sources.size < MAX_SOURCES_PER_BATCH) sources.add(sourceIp);
  }

  /** A credential `key` no longer accepts was presented (refused with 401): counted, and alerted. */
  recordRetiredUse(key: ActiveKey, credentialHash: string, sourceIp?: string): void {
    const entry = this.count(key, 401, this.clock(), credentialHash);
    const retired = (entry.retired ??= new Map());
    const use = retired.get(credentialHash) ?? { uses: 0 };
    use.uses += 1;
    if (sourceIp !== undefined) use.lastSourceIp = sourceIp;
    retired.set(credentialHash, use);
  }

  /**
   * A request whose key check refused it with `status`: a known key counts as used, a credential
   * the key no longer accepts as a retired use (see Verification.retiredFrom); an unknown key not at all.
   */
  recordRefusal(
    refused: { readonly key?: ActiveKey; readonly credentialHash?: string; readonly retiredFrom?: ActiveKey },
    status: number,
    sourceIp?: string,
  ): void {
    if (refused.key) this.recordUse(refused.key, refused.credentialHash, status, sourceIp);
    else if (refused.retiredFrom && refused.credentialHash) this.recordRetiredUse(refused.retiredFrom, refused.credentialHash, sourceIp);
  }

  /** A request of a key known only by its ids (tests, tools). */
  record(tenant: string, keyId: string, status: number, atMs: number = this.clock(), credentialHash?: string): void {
    this.count({ tenant, id: keyId, name: keyId, environment: 'production' }, status, atMs, credentialHash);
  }

  private count(key: ActiveKey, status: number, atMs: number, credentialHash: string | undefined): Counts {
    let entry = this.pending.get(key.id);
    if (!entry) {
      entry = {
        key,
        minutes: new Map(),
        currentMinuteMs: Number.NaN,
        current: undefined,
        lastUsedAtMs: atMs,
        credentials: undefined,
        sources: undefined,
        retired: undefined,
      };
      this.pending.set(key.id, entry);
    } else {
      // The latest record, so an alert names the key as it is now.
      entry.key = key;
    }
    const minute = atMs - (atMs % MINUTE_MS);
    if (minute !== entry.currentMinuteMs || !entry.current) {
      entry.current = minuteOf(entry, minute);
      entry.currentMinuteMs = minute;
    }
    countStatus(entry.current, status);
    if (atMs > entry.lastUsedAtMs) entry.lastUsedAtMs = atMs;
    if (credentialHash === undefined) return entry;
    entry.credentials ??= new Map();
    if (atMs > (entry.credentials.get(credentialHash) ?? Number.NEGATIVE_INFINITY)) entry.credentials.set(credentialHash, atMs);
    return entry;
  }

  /** For Lambda, where timers freeze between invocations: flush at the end of a request when due. */
  async flushIfDue(options: FlushOptions = {}): Promise<void> {
    if (this.clock() - this.lastFlushAt >= this.flushIntervalMs) await this.flush(options);
  }

  /**
   * Writes everything pending or unsettled; a flush already running is joined, not doubled. Never
   * rejects: failures go to onFlushError and are retried by the next flush.
   */
  async flush(options: FlushOptions = {}): Promise<void> {
    const flush = (this.flushing ??= this.startFlush());
    if (options.budgetMs === undefined) return flush.done;
    if (await settlesWithin(flush.done, options.budgetMs)) return;
    // Abort rather than leave the writes running: on Lambda they would freeze mid-request with the
    // instance. Whether or not they landed, their deltas are still unsettled and go out again.
    flush.abort.abort();
    if (this.flushing === flush) this.flushing = undefined;
    this.options.onFlushError?.(new Error(`usage flush took longer than its ${options.budgetMs} ms budget; its writes were abandoned and will be retried`));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private startFlush(): Flush {
    const abort = new AbortController();
    // Every write of a flush (and the alert monitor's reads after it) listens to this one signal, and
    // stops listening when it settles: many at once is the design, not a leak.
    setMaxListeners(0, abort.signal);
    const done = this.writeBatch(abort.signal)
      .catch((error) => this.options.onFlushError?.(error))
      .finally(() => {
        if (this.flushing?.done === done) this.flushing = undefined;
      });
    return { done, abort };
  }

  private async writeBatch(abortSignal: AbortSignal): Promise<void> {
    this.lastFlushAt = this.clock();
    const { batch, activity } = this.takeBatch();
    if (batch.length === 0) {
      // Nothing to write, but alerts a failure held back are tried again.
      if (this.options.monitor?.hasCarried()) await this.options.monitor.afterFlush([], abortSignal);
      return;
    }
    let failed: readonly UsageDelta[];
    try {
      failed = await this.options.store.recordUsage(batch, { abortSignal });
    } catch (error) {
      failed = batch;
      this.options.onFlushError?.(error);
    }
    const failedIds = new Set(failed.map((delta) => delta.id));
    for (const delta of batch) {
      // Only this very delta: a later flush may have settled it and queued the key's next one.
      if (!failedIds.has(delta.id) && this.unsettled.get(delta.keyId) === delta) this.unsettled.delete(delta.keyId);
    }
    if (failed.length > 0 && failed !== batch && !abortSignal.aborted) {
      this.options.onFlushError?.(new Error(`${failed.length} of ${batch.length} usage updates failed; they will be retried`));
    }
    // After the writes, so the series the monitor reads hold this batch. It never rejects, and keeps
    // for the next flush what a spent budget (an aborted signal) leaves undone.
    if (this.options.monitor && activity.length > 0) await this.options.monitor.afterFlush(activity, abortSignal);
  }

  /**
   * Every unsettled delta again, and a new delta for each key with new counts and none unsettled;
   * with the activity (sources, retired credentials) of the keys whose new counts were taken.
   */
  private takeBatch(): { batch: UsageDelta[]; activity: KeyActivity[] } {
    const batch = [...this.unsettled.values()];
    const activity: KeyActivity[] = [];
    for (const [keyId, counts] of this.pending) {
      if (this.unsettled.has(keyId)) continue;
      const minutes = takeMinutes(counts);
      const delta: UsageDelta = {
        id: randomUUID(),
        tenant: counts.key.tenant,
        keyId,
        requests: minutes.reduce((sum, minute) => sum + minute.requests, 0),
        errors: minutes.reduce((sum, minute) => sum + minute.errors, 0),
        minutes,
        lastUsedAt: new Date(counts.lastUsedAtMs).toISOString(),
        ...(counts.credentials ? { credentials: credentialUses(counts.credentials) } : {}),
      };
      // Unsettled from before the first attempt: an abandoned flush leaves it ready to re-send.
      this.unsettled.set(keyId, delta);
      // Minutes beyond one delta's share wait for the next (lastUsedAt again: setting it is idempotent).
      if (counts.minutes.size === 0) this.pending.delete(keyId);
      else counts.credentials = undefined;
      batch.push(delta);
      if (this.options.monitor) activity.push(takeActivity(counts));
    }
    return { batch, activity };
  }
}

function minuteOf(counts: Counts, minute: number): BucketCounts {
  let bucket = counts.minutes.get(minute);
  if (!bucket) {
    bucket = emptyCounts();
    counts.minutes.set(minute, bucket);
  }
  return bucket;
}

/** The oldest MAX_MINUTES_PER_DELTA minutes of `counts`, removed from it. */
function takeMinutes(counts: Counts): UsageMinute[] {
  const starts = [...counts.minutes.keys()].sort((a, b) => a - b).slice(0, MAX_MINUTES_PER_DELTA);
  const minutes = starts.map((start) => {
    const { requests, errors, byStatus } = counts.minutes.get(start)!;
    return { at: new Date(start).toISOString(), requests, errors, byStatus: { ...byStatus } };
  });
  for (const start of starts) counts.minutes.delete(start);
  // The current minute may be among those taken: count on into a fresh bucket, not the sent one.
  counts.current = undefined;
  return minutes;
}

function takeActivity(counts: Counts): KeyActivity {
  const retired: RetiredUse[] = [...(counts.retired ?? [])].map(([credentialHash, use]) => ({ credentialHash, ...use }));
  const activity = { key: counts.key, sources: [...(counts.sources ?? [])], retired };
  counts.sources = undefined;
  counts.retired = undefined;
  return activity;
}

function credentialUses(latest: Map<string, number>): CredentialUse[] {
  return [...latest].map(([credentialHash, atMs]) => ({ credentialHash, lastUsedAt: new Date(atMs).toISOString() }));
}

/** Whether `promise` settles within `ms`; the timer never outlives the answer. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
