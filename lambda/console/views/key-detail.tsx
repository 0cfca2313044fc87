/** A key's page: configuration, credentials, usage, rotation (declared keys), alerts, audit entries, and its actions. */
import type { Alert } from '../../alerts/alert';
import type { SeriesPoint } from '../../usage/usage-series';
import type { RotationStatusAnswer } from '../rotation-status';
import { AlertTable } from './alert-table';
import { DeclaredNote } from './key-form';
import { type KeyView, agoText, countText, rateLimitText, statusLabel, timeText } from './format';
import { Layout, Notice, type SignedIn } from './layout';
import { RotationSection } from './rotation-section';
import { UsageChart } from './usage-chart';

/** An audit entry as the API answers it. */
export interface AuditEntryView {
  readonly id: string;
  readonly at: string;
  readonly action: string;
  readonly actor: { type: string; keyId?: string };
  readonly changes?: Record<string, { from: unknown; to: unknown }>;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly detail?: string;
}

export type Loaded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface KeyDetailProps {
  readonly signedIn: SignedIn;
  readonly item: KeyView;
  readonly usage: Loaded<readonly SeriesPoint[]>;
  readonly audit: Loaded<readonly AuditEntryView[]>;
  /** The key's newest alerts, and whether it has older ones. */
  readonly alerts: Loaded<{ readonly alerts: readonly Alert[]; readonly more: boolean }>;
  readonly rotation?: RotationStatusAnswer;
  readonly rotationStarted?: boolean;
  readonly nowMs: number;
  readonly notice?: string;
}

export function KeyDetailPage(props: KeyDetailProps) {
  const { item: key, signedIn } = props;
  const revoked = key.status === 'revoked';
  return (
    <Layout title={key.name} signedIn={signedIn}>
      <p>
        <a href="/console">← API keys</a>
      </p>
      <div class="page-head">
        <h1>
          {key.name} <span class={`badge ${key.status}`}>{statusLabel(key.status)}</span>
        </h1>
        {revoked ? null : (
          <div class="actions" role="group" aria-label="Key actions">
            <a class="button" href={`/console/keys/${key.id}/edit`}>
              {key.declared ? 'View configuration' : 'Edit'}
            </a>
            <form method="post" action={`/console/keys/${key.id}/enabled`}>
              <input type="hidden" name="_csrf" value={signedIn.csrfToken} />
              <input type="hidden" name="enabled" value={key.enabled ? 'false' : 'true'} />
              <button type="submit" class="button">
                {key.enabled ? 'Disable' : 'Enable'}
              </button>
            </form>
            <a class="button" href={`/console/keys/${key.id}/regenerate`}>
              Regenerate
            </a>
            <a class="button danger" href={`/console/keys/${key.id}/revoke`}>
              Revoke
            </a>
          </div>
        )}
      </div>
      <Notice text={props.notice} />
      {key.declared ? <DeclaredNote name={key.declared.name} /> : null}
      <div class="grid-2">
        <section class="card" aria-labelledby="config-title">
          <h2 id="config-title">Configuration</h2>
          <dl class="config">
            <dt>Key id</dt>
            <dd class="mono">{key.id}</dd>
            <dt>Environment</dt>
            <dd>{key.environment}</dd>
            <dt>Permissions</dt>
            <dd>
              {key.permissions.map((permission) => (
                <span class="tag mono">{permission}</span>
              ))}
            </dd>
            <dt>Rate limit</dt>
            <dd>{rateLimitText(key.rateLimit)}</dd>
            <dt>Expires</dt>
            <dd>{key.expiresAt ? timeText(key.expiresAt) : 'Never'}</dd>
            <dt>Tags</dt>
            <dd>{key.tags.length ? key.tags.map((tag) => <span class="tag">{tag}</span>) : <span class="muted">None</span>}</dd>
            {key.customerId ? (
              <>
                <dt>Customer</dt>
                <dd class="mono">{key.customerId}</dd>
              </>
            ) : null}
            <dt>Created</dt>
            <dd>{timeText(key.createdAt)}</dd>
            <dt>Last used</dt>
            <dd title={key.lastUsedAt ?? ''}>{agoText(key.lastUsedAt, props.nowMs)}</dd>
            <dt>Requests</dt>
            <dd>
              {countText(key.requestCount)} ({countText(key.errorCount)} errors)
            </dd>
            {key.revokedAt ? (
              <>
                <dt>Revoked</dt>
                <dd>{timeText(key.revokedAt)}</dd>
              </>
            ) : null}
          </dl>
        </section>
        <section class="card" aria-labelledby="credentials-title">
          <h2 id="credentials-title">Credentials</h2>
          <table aria-label="Credentials">
            <thead>
              <tr>
                <th scope="col">Starts with</th>
                <th scope="col">State</th>
                <th scope="col">Valid until</th>
                <th scope="col">Last used</th>
              </tr>
            </thead>
            <tbody>
              {key.credentials.map((credential) => (
                <tr>
                  <td class="mono">{credential.start ? `${credential.start}…` : '—'}</td>
                  <td>{credential.state === 'grace' ? 'In grace' : credential.state === 'pending' ? 'Pending' : 'Current'}</td>
                  <td>{'validUntil' in credential && credential.validUntil ? timeText(credential.validUntil) : '—'}</td>
                  <td>{agoText('lastUsedAt' in credential ? credential.lastUsedAt : null, props.nowMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {key.credentials.length === 0 ? <p class="muted">No credential opens this key.</p> : null}
        </section>
      </div>
      <div class="detail-sections">
        <section class="card" aria-labelledby="usage-title">
          <h2 id="usage-title">Usage, last hour</h2>
          {props.usage.ok ? <UsageChart series={props.usage.value} label="Requests per minute, last hour" /> : <p class="muted">Usage is unavailable: {props.usage.reason}</p>}
        </section>
        {key.declared && props.rotation ? <RotationSection keyId={key.id} answer={props.rotation} declaredName={key.declared.name} started={props.rotationStarted} /> : null}
        <section class="card" aria-labelledby="alerts-title">
          <h2 id="alerts-title">Alerts</h2>
          {props.alerts.ok ? (
            <>
              <AlertTable alerts={props.alerts.value.alerts} nowMs={props.nowMs} compact />
              {props.alerts.value.more ? (
                <p>
                  <a href={`/console/alerts?keyId=${key.id}`}>All alerts of {key.name}</a>
                </p>
              ) : null}
            </>
          ) : (
            <p class="muted">Alerts are unavailable: {props.alerts.reason}</p>
          )}
        </section>
        <section class="card" aria-labelledby="audit-title">
          <h2 id="audit-title">Audit log</h2>
          {props.audit.ok ? <AuditTable entries={props.audit.value} /> : <p class="muted">The audit log is unavailable: {props.audit.reason}</p>}
        </section>
      </div>
    </Layout>
  );
}

function AuditTable(props: { readonly entries: readonly AuditEntryView[] }) {
  if (props.entries.length === 0) return <p class="muted">No entries yet.</p>;
  return (
    <div class="table-wrap">
      <table aria-label="Audit log">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">By</th>
            <th scope="col">Changes</th>
            <th scope="col">From</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((entry) => (
            <tr>
              <td class="when">{timeText(entry.at)}</td>
              <td>
                <code>{entry.action}</code>
              </td>
              <td class="mono">{entry.actor.type === 'key' ? entry.actor.keyId : entry.actor.type}</td>
              <td>
                {entry.changes
                  ? Object.entries(entry.changes).map(([field, change]) => (
                      <div>
                        <strong>{field}</strong>: {show(change.from)} → {show(change.to)}
                      </div>
                    ))
                  : (entry.detail ?? '')}
              </td>
              <td class="muted">{[entry.sourceIp, entry.userAgent ? shortAgent(entry.userAgent) : undefined].filter(Boolean).join(' · ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The browser's product token, not its whole User-Agent. */
function shortAgent(userAgent: string): string {
  const match = /(HeadlessChrome|Chrome|Firefox|Safari|curl|node)\/[\d.]+/.exec(userAgent);
  return match ? match[0] : userAgent.slice(0, 40);
}
