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
export type ActiveKey = Pick<ApiKeyRecord, 'tenant' | 'id' | 'name' | 'environment' | 'customerId'> & Partial<Pick<ApiKeyRecord, 'createdAt'>>;

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
  /** Activity not settled by the last run (and new-source findings not stored), merged into the next. */
  private carried = new Map<string, Carried>();

  constructor(private readonly options: AlertMonitorOptions) {
    this.thresholds = options.thresholds ?? DEFAULT_ALERT_THRESHOLDS;
    this.clock = options.clock ?? Date.now;
  }

  /** Whether something waits to be tried again, so a flush with no new usage still runs the monitor. */
  hasCarried(): boolean {
    return this.carried.size > 0;
  }

  /**
   * Called by the usage recorder after a flush's writes, with the flushed keys' activity. When the
   * flush's budget is spent (`abortSignal` aborted), the activity is kept for the next flush.
   */
  async afterFlush(activity: readonly KeyActivity[], abortSignal?: AbortSignal): Promise<void> {
    const byKey = this.carried;
    this.carried = new Map();
    for (const entry of activity) byKey.set(entry.key.id, merge(byKey.get(entry.key.id), { ...entry, findings: [] }));
    const entries = [...byKey.values()];
    for (let index = 0; index < entries.length; index += CONCURRENCY) {
      if (abortSignal?.aborted) {
        for (const entry of entries.slice(index)) this.carry(entry);
        return;
      }
      await Promise.all(entries.slice(index, index + CONCURRENCY).map((entry) => this.watch(entry, abortSignal)));
    }
  }

  private async watch(activity: Carried, abortSignal: AbortSignal | undefined): Promise<void> {
    const nowMs = this.clock();
    const { key } = activity;
    const unstored: Finding[] = [];
    /** Stores the finding; one that is found only once (a new source) is kept when that fails. */
    const raised = async (finding: Finding | undefined, keepOnFailure: boolean) => {
      if (!finding) return true;
      const stored = await this.raise(key, finding, nowMs, abortSignal);
      if (!stored && keepOnFailure) unstored.push(finding);
      return stored || keepOnFailure;
    };
    const [, sourcesSettled, retiredSettled] = await Promise.all([
      // A series finding missed now is found again at the next evaluation: nothing to carry.
      this.evaluateSeries(key, nowMs, abortSignal).then((findings) => Promise.all(findings.map((finding) => raised(finding, false)))),
      Promise.all(
        (this.thresholds.newSources ? activity.sources : []).map((sourceIp) =>
          this.checkSource(key, sourceIp, nowMs, abortSignal).then(
            (finding) => raised(finding, true),
            (error: unknown) => this.failed(error),
          ),
        ),
      ),
      Promise.all(activity.retired.map((use) => raised(retiredCredentialFinding(use.credentialHash, use.uses, use.lastSourceIp, nowMs, this.thresholds), false))),
      // New-source findings whose store failed before: the source is known by now, so only they remain.
      Promise.all(activity.findings.map((finding) => raised(finding, true))),
    ]);
    const sources = activity.sources.filter((_, index) => this.thresholds.newSources && !sourcesSettled[index]);
    const retired = activity.retired.filter((_, index) => !retiredSettled[index]);
    this.carry({ key, sources, retired, findings: unstored });
  }

  private carry(entry: Carried): void {
    if (entry.sources.length === 0 && entry.retired.length === 0 && entry.findings.length === 0) return;
    this.carried.set(entry.key.id, merge(this.carried.get(entry.key.id), entry));
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
      return seriesFindings(minutes, nowMs, this.thresholds, key.createdAt ? Date.parse(key.createdAt) : undefined);
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

/** Activity carried to the next run, with the new-source findings whose store failed. */
type Carried = KeyActivity & { readonly findings: readonly Finding[] };

/** Sources carried per key at most, as the recorder keeps per batch: an outage must not grow them without end. */
const MAX_CARRIED_SOURCES = 64;

function merge(into: Carried | undefined, entry: Carried): Carried {
  if (!into) return entry;
  const retired = new Map(into.retired.map((use) => [use.credentialHash, use]));
  for (const use of entry.retired) {
    const earlier = retired.get(use.credentialHash);
    retired.set(use.credentialHash, earlier ? { ...use, uses: earlier.uses + use.uses, lastSourceIp: use.lastSourceIp ?? earlier.lastSourceIp } : use);
  }
  const findings = new Map([...into.findings, ...entry.findings].map((finding) => [finding.identity, finding]));
  return {
    key: entry.key,
    sources: [...new Set([...into.sources, ...entry.sources])].slice(0, MAX_CARRIED_SOURCES),
    retired: [...retired.values()],
    findings: [...findings.values()],
  };
}

function remember<K>(map: Map<K, number>, key: K, atMs: number): void {
  if (map.size >= MAX_REMEMBERED) map.clear();
  map.set(key, atMs);
}
