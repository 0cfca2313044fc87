/**
 * When a key's activity is unusual, as pure functions of its usage series and of what the usage
 * recorder saw: no I/O, no clock, so each rule is tested on its own (alert-rules.test.ts).
 *
 * The window is the last `windowMinutes` minute buckets, the current (partial) one included: a
 * spike shows while it is happening, and only grows as the minute fills. The baseline is the
 * `baselineMinutes` before the window, as a mean per window.
 */
import { createHash } from 'node:crypto';
import type { BucketCounts } from '../usage/usage-series';
import type { AlertFacts, AlertType } from './alert';
import type { AlertThresholds } from './alert-thresholds';

const MINUTE_MS = 60_000;

/** An alert a rule found, before it is stored: the monitor adds the key and the time. */
export interface Finding {
  readonly type: AlertType;
  readonly summary: string;
  readonly facts: AlertFacts;
  readonly window?: { readonly fromMs: number; readonly toMs: number };
  /** What makes two findings the same alert (with the key): the slot, the source, the credential. */
  readonly identity: string;
}

export interface SeriesSpan {
  readonly fromMs: number;
  readonly toMs: number;
}

/** The minute buckets an evaluation at `nowMs` reads: the baseline and the window. */
export function evaluationSpan(nowMs: number, thresholds: AlertThresholds): SeriesSpan {
  const toMs = nowMs - (nowMs % MINUTE_MS) + MINUTE_MS;
  return { fromMs: toMs - (thresholds.windowMinutes + thresholds.baselineMinutes) * MINUTE_MS, toMs };
}

/**
 * The error-rate and request-rate findings in a key's minute buckets (by start, epoch ms), as of
 * `nowMs`. Buckets outside evaluationSpan are ignored. `createdAtMs` (the key's creation) says how
 * much history the key has: a key that existed but was idle has a baseline of zero, so a dormant
 * key that wakes up with a burst alerts; without it, the history is the oldest bucket with traffic.
 */
export function seriesFindings(minutes: ReadonlyMap<number, BucketCounts>, nowMs: number, thresholds: AlertThresholds, createdAtMs?: number): Finding[] {
  const span = evaluationSpan(nowMs, thresholds);
  const windowFromMs = span.toMs - thresholds.windowMinutes * MINUTE_MS;
  let requests = 0;
  let refusals = 0;
  let baselineRequests = 0;
  let earliestBaselineMs = Number.POSITIVE_INFINITY;
  for (const [startMs, counts] of minutes) {
    if (startMs < span.fromMs || startMs >= span.toMs) continue;
    if (startMs >= windowFromMs) {
      requests += counts.requests;
      refusals += counts.byStatus['401'] + counts.byStatus['403'] + counts.byStatus['429'];
    } else if (counts.requests > 0) {
      baselineRequests += counts.requests;
      earliestBaselineMs = Math.min(earliestBaselineMs, startMs);
    }
  }
  const window = { fromMs: windowFromMs, toMs: span.toMs };
  const slot = cooldownSlot(nowMs, thresholds);
  const findings: Finding[] = [];
  const minutesText = `${thresholds.windowMinutes} minute${thresholds.windowMinutes === 1 ? '' : 's'}`;

  const share = requests > 0 ? refusals / requests : 0;
  if (requests >= thresholds.errorMinRequests && share >= thresholds.errorShare) {
    findings.push({
      type: 'error-rate',
      summary: `${percent(share)} of this key's ${requests} requests in the last ${minutesText} were refused (401, 403 or 429; the alert fires at ${percent(thresholds.errorShare)}). Check the key's usage chart and audit log: a client may be using a wrong, disabled or under-permitted key, or be over its rate limit.`,
      facts: { requests, refusals, share: round(share, 4) },
      window,
      identity: `slot:${slot}`,
    });
  }

  // The baseline is the mean per window over the history before the window, up to the baseline
  // span; a key with less than half a span of history (new) has none yet.
  const baselineSpanMs = thresholds.baselineMinutes * MINUTE_MS;
  // Traffic older than the record's createdAt (instances' clocks differ) counts as history too.
  const historyFromMs = Math.min(createdAtMs ?? Number.POSITIVE_INFINITY, earliestBaselineMs);
  const historyMs = Math.min(baselineSpanMs, windowFromMs - historyFromMs);
  const hasBaseline = historyMs >= baselineSpanMs / 2;
  const baseline = hasBaseline ? baselineRequests / (historyMs / (thresholds.windowMinutes * MINUTE_MS)) : 0;
  if (hasBaseline && requests >= thresholds.rateMinRequests && requests >= thresholds.rateFactor * baseline) {
    const factor = baseline > 0 ? requests / baseline : Number.POSITIVE_INFINITY;
    const usual = baseline > 0 ? `${round(factor, 1)}× its usual ${round(baseline, 1)}` : 'after being idle';
    findings.push({
      type: 'request-rate',
      summary: `This key made ${requests} requests in the last ${minutesText}, ${usual} (the mean over the ${Math.round(historyMs / MINUTE_MS)} minutes before; the alert fires at ${thresholds.rateFactor}×). Check who holds the key: a runaway client, a retry loop, or a leaked key.`,
      facts: { requests, baseline: round(baseline, 2), ...(baseline > 0 ? { factor: round(factor, 2) } : {}) },
      window,
      identity: `slot:${slot}`,
    });
  }
  return findings;
}

/** A key's first use from `sourceIp`, when it has `knownSources` others (a key's first source alerts nobody). */
export function newSourceFinding(sourceIp: string, knownSources: number): Finding | undefined {
  if (knownSources < 1) return undefined;
  return {
    type: 'new-source',
    summary: `This key was used from ${sourceIp} for the first time (it was used from ${knownSources === 1 ? '1 other address' : `${knownSources} other addresses`} before). If that is not one of your integrations, revoke or regenerate the key.`,
    facts: { sourceIp },
    identity: `source:${sourceIp}`,
  };
}

/** A credential the key no longer accepts was presented `uses` times, last from `sourceIp` when known. */
export function retiredCredentialFinding(credentialHash: string, uses: number, sourceIp: string | undefined, nowMs: number, thresholds: AlertThresholds): Finding {
  return {
    type: 'retired-credential',
    summary: `A credential this key no longer accepts (retired by a rotation or a regenerate) was presented ${uses === 1 ? 'once' : `${uses} times`}${sourceIp ? `, last from ${sourceIp}` : ''}; each was refused with 401. An integration still holds the old credential: give it the key's current one (for keys as code, check its consumers in stacks/keys.yaml), or find out who else has it.`,
    facts: { uses, ...(sourceIp ? { sourceIp } : {}) },
    // Per credential (by a prefix of its hash, never shown) and slot.
    identity: `credential:${credentialHash.slice(0, 16)}:slot:${cooldownSlot(nowMs, thresholds)}`,
  };
}

/**
 * The alert's id: the same from every instance that finds the same alert, so storing it twice is
 * storing it once. Only a hash of the identity: it holds no address or credential hash in clear.
 */
export function alertId(tenant: string, keyId: string, finding: Pick<Finding, 'type' | 'identity'>): string {
  const digest = createHash('sha256').update(`${tenant}\n${keyId}\n${finding.type}\n${finding.identity}`).digest('base64url');
  return `alr_${digest.replace(/[-_]/g, '').slice(0, 24).padEnd(24, '0')}`;
}

/** The cooldown slot holding `nowMs`: one alert per key and type per slot. */
function cooldownSlot(nowMs: number, thresholds: AlertThresholds): number {
  return Math.floor(nowMs / (thresholds.cooldownMinutes * MINUTE_MS));
}

function percent(share: number): string {
  return `${round(share * 100, 1)} %`;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
