/**
 * What `keyroll rotate` and `keyroll rotation status|sweep` print, as pure functions of what the
 * rotation Lambda answered: a table per key, the notes under it (failures with their consumer and
 * fix, old credentials retired while still in use), sweep outcomes, and the emergency warning.
 * Nothing here sees a credential: only display prefixes (`kr_live_ab12`).
 */
import type { KeyRotationStatus } from '../../rotate/status-report';
import type { SweepOutcome, SweepReport } from '../../rotate/sweep';

/** ISO-8601 to the second: the table's times, in UTC as stored. */
export function when(iso: string | undefined): string {
  if (!iso) return '-';
  return iso.replace(/\.\d+Z$/, 'Z');
}

const COLUMNS: readonly [string, (status: KeyRotationStatus) => string][] = [
  ['KEY', (s) => s.name],
  ['PHASE', (s) => s.phase],
  ['LAST ROTATED', (s) => when(s.lastRotatedAt)],
  ['NEXT DUE', (s) => (s.rotationEnabled ? when(s.nextDueAt) : 'not configured')],
  ['OLD CREDENTIAL', (s) => (s.oldCredential ? `${s.oldCredential.start}…` : '-')],
  ['LAST USED', (s) => (s.oldCredential ? (s.oldCredential.lastUsedAt ? when(s.oldCredential.lastUsedAt) : 'not since cutover') : '-')],
  ['GRACE ENDS', (s) => (s.oldCredential ? when(s.oldCredential.graceUntil) : '-')],
];

/** The table, then a note per key that needs one (see {@link statusNotes}). */
export function statusText(statuses: readonly KeyRotationStatus[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...statuses.map((status) => COLUMNS.map(([, cell]) => oneLine(cell(status))))];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const table = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
  const notes = statuses.flatMap(statusNotes).map(oneLine);
  const unrotated = statuses.filter((status) => !status.rotationEnabled).map((status) => status.name);
  if (unrotated.length > 0) {
    notes.push(`Not rotated (no rotation configured): ${unrotated.map(oneLine).join(', ')}. To rotate one, declare \`rotation: { everyDays, graceMinutes }\` for it in keys.yaml and deploy.`);
  }
  return `${[...table, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')}\n`;
}

/**
 * What a row cannot hold: why a rotation failed (the consumer, and the fix), and an old credential
 * that was retired while something still used it (the straggler).
 */
export function statusNotes(status: KeyRotationStatus): string[] {
  const notes: string[] = [];
  const { failure } = status;
  if (failure && status.phase === 'failed') {
    const where = [failure.step, when(failure.at)].filter((part) => part && part !== '-').join(', ');
    notes.push(`${status.name}: failed${where ? ` (${where})` : ''}: ${failure.code}: ${withoutFix(failure.message, failure.fix)}`);
    if (failure.consumer) notes.push(`  consumer: ${failure.consumer}`);
    if (failure.fix) notes.push(`  fix: ${failure.fix}`);
    if (!failure.fix) notes.push('  fix: fix the cause named above, then start a new rotation with `keyroll rotate`; the current credential keeps working meanwhile.');
  }
  const retired = status.lastRetirement;
  if (retired?.lastUsedAt) {
    notes.push(
      `${status.name}: the old credential ${retired.start}… was retired at ${when(retired.at)} (${retirementReason(retired.reason)}) while still in use, last at ${when(retired.lastUsedAt)}: ` +
        'something keyroll does not know of holds it. Find it (the key service logs each refused request), and declare it as a consumer in keys.yaml.',
    );
  }
  return notes;
}

/** RotationError messages end with their fix; status prints the fix on a line of its own. */
function withoutFix(message: string, fix: string | undefined): string {
  return fix && message.endsWith(fix) ? message.slice(0, -fix.length).trimEnd() : message;
}

function retirementReason(reason: string): string {
  switch (reason) {
    case 'drained':
      return 'drained: unused for the cache horizon';
    case 'grace-ended':
      return 'its grace ended';
    case 'emergency':
      return 'emergency rotation';
    default:
      return reason;
  }
}

/** One sweep outcome: `acme/telemetry-ingest  retired   the old credential kr_live_ab12… (drained: …)`. */
export function sweepLine(outcome: SweepOutcome, width = 0): string {
  const key = `${outcome.tenant}/${outcome.name}`.padEnd(width);
  return oneLine(`${key}  ${outcome.action.padEnd(8)}  ${sweepDetail(outcome)}`.trimEnd());
}

function sweepDetail(outcome: SweepOutcome): string {
  const { retired } = outcome;
  if (outcome.action === 'retired' && retired) {
    const inUse = retired.stillInUse
      ? `; it was still in use${retired.lastUsedAt ? `, last at ${when(retired.lastUsedAt)}` : ''}: something keyroll does not know of holds it`
      : '';
    return `the old credential ${retired.start}… (${retirementReason(retired.reason)})${inUse}`;
  }
  return outcome.detail ?? '';
}

export function sweepText(report: SweepReport): string[] {
  if (report.outcomes.length === 0) return ['No rotation needs the sweep: no declared key is rotating, draining or failed.'];
  const width = Math.max(...report.outcomes.map((o) => `${o.tenant}/${o.name}`.length));
  const counts = new Map<string, number>();
  for (const outcome of report.outcomes) counts.set(outcome.action, (counts.get(outcome.action) ?? 0) + 1);
  const order = ['retired', 'repaired', 'finished', 'waiting', 'busy', 'error'];
  const summary = order.filter((action) => counts.has(action)).map((action) => `${counts.get(action)} ${action}`);
  const keys = report.checked === 1 ? '1 key' : `${report.checked} keys`;
  return [...report.outcomes.map((outcome) => sweepLine(outcome, width)), `Swept ${keys}: ${summary.join(', ')}.`];
}

/** What `keyroll rotate --emergency` says before it starts: what stops working, and for how long. */
export function emergencyWarning(horizonSeconds: number): string {
  return (
    'Emergency rotation: the old credential is retired as soon as every declared consumer keyroll writes holds the new one, with no drain. ' +
    `Reference consumers (IoT rules reading the secret through get_secret) may keep sending the old credential from their cache, and fail, for up to the cache horizon: ${horizonSeconds} s ` +
    '(KEYROLL_IOT_SECRET_CACHE_SECONDS in this shell; the deploy sets the horizon from its own, AWS\'s default 900 s).'
  );
}

/** What one finished wait says about a key: its phase and what comes next. */
export function settledLine(status: KeyRotationStatus): string {
  return oneLine(settledText(status));
}

function settledText(status: KeyRotationStatus): string {
  const key = `${status.tenant}/${status.name}`;
  switch (status.phase) {
    case 'draining': {
      const old = status.oldCredential;
      return (
        `${key}: draining: version ${status.versionId ?? '?'} is current; the old credential ${old ? `${old.start}… ` : ''}keeps working until nothing has used it ` +
        `for the cache horizon (at the latest until ${when(old?.graceUntil)}), then the sweep retires it.`
      );
    }
    case 'idle': {
      const retired = status.lastRetirement;
      return `${key}: done: version ${status.versionId ?? '?'} is current${retired ? `; the old credential ${retired.start}… was retired (${retirementReason(retired.reason)})` : ''}.`;
    }
    case 'failed':
      return `${key}: failed: ${status.failure ? `${status.failure.code}: ${withoutFix(status.failure.message, status.failure.fix)}` : 'no reason recorded'}${status.failure?.fix ? ` Fix: ${status.failure.fix}` : ''}`;
    default:
      return `${key}: ${status.phase}`;
  }
}

/** The key service's 202 answer to regenerating a declared key (lambda/serve/key-rotations.ts). */
export interface StartedRotationView {
  readonly keyId: string;
  readonly name: string;
  readonly secretArn: string;
  readonly versionId: string;
  readonly state: string;
}

/** What `keyroll keys regenerate` says for a declared key: a rotation began, how to watch it, and why no key is printed. */
export function rotationStartedByRegenerate(rotation: StartedRotationView, tenant: string): string {
  return oneLine(
    `Key ${rotation.keyId} is declared (${tenant}/${rotation.name} in keys.yaml), so regenerating it started a rotation instead (Secrets Manager version ${rotation.versionId}): ` +
      "every consumer moves to the new credential before the old one stops, within the key's `rotation.graceMinutes`. " +
      `No key is printed: the new one goes into its secret keyroll/${tenant}/${rotation.name}. ` +
      `Watch it with \`keyroll rotation status --tenant ${tenant}\`.`,
  );
}

/** Names and reasons come from the table: a newline or control character must not forge lines. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}
