/** The tenant's alerts on unusual activity: filter by type (and key), the "Alerts" table, cursor pagination. */
import { ALERT_TYPES, type Alert } from '../../alerts/alert';
import { ALERT_TYPE_LABELS, AlertTable } from './alert-table';
import { ErrorNotice, Layout, type SignedIn } from './layout';

export interface AlertFilters {
  readonly type?: string;
  readonly keyId?: string;
}

export interface AlertsPageProps {
  readonly signedIn: SignedIn;
  readonly alerts: readonly Alert[];
  readonly filters: AlertFilters;
  /** The cursor this page was read from; none on the first (newest) page. */
  readonly cursor?: string;
  readonly nextCursor: string | null;
  readonly nowMs: number;
  /** The API's refusal (a bad filter or cursor), shown above an empty table. */
  readonly error?: { code?: string; message?: string };
}

export function AlertsPage(props: AlertsPageProps) {
  const { filters } = props;
  const href = (cursor?: string) => {
    const query = new URLSearchParams();
    if (filters.type) query.set('type', filters.type);
    if (filters.keyId) query.set('keyId', filters.keyId);
    if (cursor) query.set('cursor', cursor);
    const text = query.toString();
    return text ? `/console/alerts?${text}` : '/console/alerts';
  };
  const keyName = filters.keyId ? (props.alerts[0]?.keyName ?? filters.keyId) : undefined;
  return (
    <Layout title="Alerts" signedIn={props.signedIn} current="alerts">
      <div class="page-head">
        <h1>Alerts</h1>
      </div>
      <p class="muted">
        Unusual activity of the tenant’s keys, newest first: error-rate and request-rate spikes, first use from a new source IP, and use of a credential a rotation or a regenerate retired. Kept 90 days.
      </p>
      <ErrorNotice error={props.error} />
      <section class="card">
        <form class="filters" method="get" action="/console/alerts" role="search" aria-label="Filter alerts">
          <div class="field">
            <label for="type">Type</label>
            <select id="type" name="type">
              <option value="">All</option>
              {ALERT_TYPES.map((type) => (
                <option value={type} selected={filters.type === type}>
                  {ALERT_TYPE_LABELS[type]}
                </option>
              ))}
            </select>
          </div>
          {filters.keyId ? <input type="hidden" name="keyId" value={filters.keyId} /> : null}
          <button type="submit" class="button">
            Apply
          </button>
          {filters.keyId ? (
            <span class="filter-note">
              Key <strong>{keyName}</strong> only · <a href={filters.type ? `/console/alerts?type=${encodeURIComponent(filters.type)}` : '/console/alerts'}>All keys</a>
            </span>
          ) : null}
        </form>
        <AlertTable alerts={props.alerts} showKey nowMs={props.nowMs} empty={filters.type || filters.keyId ? 'No alerts match.' : 'No unusual activity.'} />
        <nav class="pagination" aria-label="Pagination">
          <span class="muted">
            {props.alerts.length} {props.alerts.length === 1 ? 'alert' : 'alerts'} on this page{props.cursor ? ' (older)' : ''}
          </span>
          {props.cursor ? (
            <a class="button" href={href()}>
              Newest
            </a>
          ) : null}
          {props.nextCursor ? (
            <a class="button" href={href(props.nextCursor)}>
              Next page
            </a>
          ) : null}
        </nav>
      </section>
    </Layout>
  );
}
