/**
 * Raises alerts from what the usage recorder flushed: after each flush it is told, per key with
 * traffic, the sources the key was used from and the retired credentials presented, and it
 * evaluates the key's usage series (at most once per key per evaluation interval on this instance).
 * Alerts are stored idempotently (alert-rules.ts gives every instance the same id for the same
 * alert), logged, and counted as a CloudWatch metric only by the instance whose write created them.
 *
 * It never fails a flush: errors go to onError, and what was not settled (a source not recorded,
 * a retired use not alerted) is kept and tried again after the next flush.
 */
import type { ApiKeyRecord } from '../keys/key-record';
import type { BucketCounts } from '../usage/usage-series';
import type { Alert } from './alert';
import { type AlertThresholds, DEFAULT_ALERT_THRESHOLDS } from './alert-thresholds';
import { alertId, evaluationSpan, type Finding, newSourceFinding, retiredCredentialFinding, seriesFindings } from './alert-rules';

/** The key fields an alert names, and whom it is visible to. */
export type ActiveKey = Pick<ApiKeyRecord, 'tenant' | 'id' | 'name' | 'environment' | 'customerId'>;

export interface RetiredUse {
  readonly credentialHash: string;
  readonly uses: number;
  readonly lastSourceIp?: string;
}

/** One key's activity in a flushed batch. */
export interface KeyActivity {
  readonly key: ActiveKey;
  readonly sources: readonly string[];
  readonly retired: readonly RetiredUse[];
}

export interface AlertStore {
  raise(alert: Alert, target: { environment: ApiKeyRecord['environment']; customerId?: string }, abortSignal?: AbortSignal): Promise<'raised' | 'already-raised'>;
  rememberSource(tenant: string, keyId: string, sourceIp: string, atMs: number, abortSignal?: AbortSignal): Promise<{ isNew: boolean; otherSources: number }>;
}

export interface SeriesReader {
  read(tenant: string, keyId: string, range: { granularity: 'minute'; fromMs: number; toMs: number }, abortSignal?: AbortSignal): Promise<Map<number, BucketCounts>>;
}

/** Where raised alerts are counted (Powertools Metrics in the service, see alert-metrics.ts). */
export interface AlertMetrics {
  raised(alert: Alert): void;
}

export interface AlertMonitorOptions {
  readonly store: AlertStore;
  readonly series: SeriesReader;
  readonly metrics: AlertMetrics;
  /** @default DEFAULT_ALERT_THRESHOLDS (see alert-thresholds.ts) */
  readonly thresholds?: AlertThresholds;
  /** Told of each alert this instance raised (the service logs it). */
  readonly onRaised?: (alert: Alert) => void;
  readonly onError?: (error: unknown) => void;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** Keys and sources remembered per instance; past this many the memory is cleared and rebuilt. */
const MAX_REMEMBERED = 50_000;
/** A known source is written again after this long, so its retention moves with its use. */
const SOURCE_REFRESH_MS = 24 * 3600_000;
/** Keys evaluated at once after a flush. */
const CONCURRENCY = 8;

export class AlertMonitor {
  private readonly thresholds: AlertThresholds;
  private readonly clock: () => number;
  private readonly lastEvaluated = new Map<string, number>();
  /** `<keyId> <ip>` → when this instance last recorded the source. */
  private readonly knownSources = new Map<string, number>();
  /** Activity not settled by the last run, merged into the next. */
  private carried = new Map<string, KeyActivity>();

  constructor(private readonly options: AlertMonitorOptions) {
    this.thresholds = options.thresholds ?? DEFAULT_ALERT_THRESHOLDS;
    this.clock = options.clock ?? Date.now;
  }

  /** Called by the usage recorder after a flush's writes, with the flushed keys' activity. */
  async afterFlush(activity: readonly KeyActivity[], abortSignal?: AbortSignal): Promise<void> {
    const byKey = this.carried;
    this.carried = new Map();
    for (const entry of activity) byKey.set(entry.key.id, merge(byKey.get(entry.key.id), entry));
    const entries = [...byKey.values()];
    for (let index = 0; index < entries.length; index += CONCURRENCY) {
      await Promise.all(entries.slice(index, index + CONCURRENCY).map((entry) => this.watch(entry, abortSignal)));
    }
  }

  private async watch(activity: KeyActivity, abortSignal: AbortSignal | undefined): Promise<void> {
    const nowMs = this.clock();
    const { key } = activity;
    const raised = (finding: Finding | undefined) => (finding ? this.raise(key, finding, nowMs, abortSignal) : Promise.resolve(true));
    const [, sourcesSettled, retiredSettled] = await Promise.all([
      // A series finding missed now is found again at the next evaluation: nothing to carry.
      this.evaluateSeries(key, nowMs, abortSignal).then((findings) => Promise.all(findings.map(raised))),
      Promise.all(
        (this.thresholds.newSources ? activity.sources : []).map((sourceIp) =>
          this.checkSource(key, sourceIp, nowMs, abortSignal).then(raised, (error: unknown) => this.failed(error)),
        ),
      ),
      Promise.all(activity.retired.map((use) => raised(retiredCredentialFinding(use.credentialHash, use.uses, use.lastSourceIp, nowMs, this.thresholds)))),
    ]);
    const sources = activity.sources.filter((_, index) => this.thresholds.newSources && !sourcesSettled[index]);
    const retired = activity.retired.filter((_, index) => !retiredSettled[index]);
    if (sources.length > 0 || retired.length > 0) this.carried.set(key.id, merge(this.carried.get(key.id), { key, sources, retired }));
  }

  private failed(error: unknown): false {
    this.options.onError?.(error);
    return false;
  }

  private async evaluateSeries(key: ActiveKey, nowMs: number, abortSignal: AbortSignal | undefined): Promise<Finding[]> {
    const last = this.lastEvaluated.get(key.id);
    if (last !== undefined && nowMs - last < this.thresholds.evaluationSeconds * 1000) return [];
    remember(this.lastEvaluated, key.id, nowMs);
    try {
      const span = evaluationSpan(nowMs, this.thresholds);
      const minutes = await this.options.series.read(key.tenant, key.id, { granularity: 'minute', ...span }, abortSignal);
      return seriesFindings(minutes, nowMs, this.thresholds);
    } catch (error) {
      // Evaluated again after the next flush, not an interval later.
      this.lastEvaluated.delete(key.id);
      this.options.onError?.(error);
      return [];
    }
  }

  private async checkSource(key: ActiveKey, sourceIp: string, nowMs: number, abortSignal: AbortSignal | undefined): Promise<Finding | undefined> {
    const remembered = `${key.id} ${sourceIp}`;
    const lastWritten = this.knownSources.get(remembered);
    if (lastWritten !== undefined && nowMs - lastWritten < SOURCE_REFRESH_MS) return undefined;
    const use = await this.options.store.rememberSource(key.tenant, key.id, sourceIp, nowMs, abortSignal);
    remember(this.knownSources, remembered, nowMs);
    return use.isNew ? newSourceFinding(sourceIp, use.otherSources) : undefined;
  }

  /** Whether the alert is stored (by this instance or another); false when the write failed. */
  private async raise(key: ActiveKey, finding: Finding, nowMs: number, abortSignal: AbortSignal | undefined): Promise<boolean> {
    const alert: Alert = {
      id: alertId(key.tenant, key.id, finding),
      at: new Date(nowMs).toISOString(),
      tenant: key.tenant,
      keyId: key.id,
      keyName: key.name,
      type: finding.type,
      summary: finding.summary,
      ...(finding.window ? { window: { from: new Date(finding.window.fromMs).toISOString(), to: new Date(finding.window.toMs).toISOString() } } : {}),
      facts: finding.facts,
    };
    const target = { environment: key.environment, ...(key.customerId ? { customerId: key.customerId } : {}) };
    let outcome: 'raised' | 'already-raised';
    try {
      outcome = await this.options.store.raise(alert, target, abortSignal);
    } catch (error) {
      return this.failed(error);
    }
    if (outcome === 'raised') {
      this.options.metrics.raised(alert);
      this.options.onRaised?.(alert);
    }
    return true;
  }
}

function merge(into: KeyActivity | undefined, entry: KeyActivity): KeyActivity {
  if (!into) return entry;
  const retired = new Map(into.retired.map((use) => [use.credentialHash, use]));
  for (const use of entry.retired) {
    const earlier = retired.get(use.credentialHash);
    retired.set(use.credentialHash, earlier ? { ...use, uses: earlier.uses + use.uses, lastSourceIp: use.lastSourceIp ?? earlier.lastSourceIp } : use);
  }
  return { key: entry.key, sources: [...new Set([...into.sources, ...entry.sources])], retired: [...retired.values()] };
}

function remember<K>(map: Map<K, number>, key: K, atMs: number): void {
  if (map.size >= MAX_REMEMBERED) map.clear();
  map.set(key, atMs);
}
