/** The keys list: filters, search by name or tag, the "API keys" table, pagination. */
import { ENVIRONMENTS } from '../../keys/environments';
import { type KeyView, agoText, countText, permissionsSummary, rateLimitText, STATUS_LABELS, statusLabel, timeText } from './format';
import { Layout, Notice, type SignedIn } from './layout';

export interface ListFilters {
  readonly environment?: string;
  readonly status?: string;
  readonly q?: string;
}

export interface KeyListProps {
  readonly signedIn: SignedIn;
  readonly keys: readonly KeyView[];
  readonly filters: ListFilters;
  readonly page: number;
  readonly pages: number;
  readonly total: number;
  readonly nowMs: number;
  readonly notice?: string;
}

export function KeyListPage(props: KeyListProps) {
  const { filters } = props;
  const pageHref = (page: number) => {
    const query = new URLSearchParams();
    if (filters.environment) query.set('environment', filters.environment);
    if (filters.status) query.set('status', filters.status);
    if (filters.q) query.set('q', filters.q);
    query.set('page', String(page));
    return `/console?${query}`;
  };
  return (
    <Layout title="API keys" signedIn={props.signedIn} current="keys">
      <div class="page-head">
        <h1>API keys</h1>
        <a class="button primary" href="/console/keys/new">
          Create API key
        </a>
      </div>
      <Notice text={props.notice} />
      <section class="card">
        <form class="filters" method="get" action="/console" role="search" aria-label="Filter keys">
          <div class="field">
            <label for="q">Search by name or tag</label>
            <input id="q" name="q" type="search" value={filters.q ?? ''} />
          </div>
          <div class="field">
            <label for="environment">Environment</label>
            <select id="environment" name="environment">
              <option value="">All</option>
              {ENVIRONMENTS.map((environment) => (
                <option value={environment} selected={filters.environment === environment}>
                  {environment}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="status">Status</label>
            <select id="status" name="status">
              <option value="">All</option>
              {Object.entries(STATUS_LABELS).map(([value, label]) => (
                <option value={value} selected={filters.status === value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" class="button">
            Apply
          </button>
        </form>
        <div class="table-wrap">
          <table aria-label="API keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Environment</th>
                <th scope="col">Status</th>
                <th scope="col">Permissions</th>
                <th scope="col">Rate limit</th>
                <th scope="col">Last used</th>
                <th scope="col" class="num">Requests</th>
                <th scope="col" class="num">Errors</th>
                <th scope="col">Tags</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {props.keys.map((key) => (
                <tr>
                  <th scope="row">
                    <a href={`/console/keys/${key.id}`}>{key.name}</a>
                    <div class="muted mono">{key.start}…</div>
                  </th>
                  <td>{key.environment}</td>
                  <td>
                    <span class={`badge ${key.status}`}>{statusLabel(key.status)}</span>
                  </td>
                  <td title={key.permissions.join(', ')}>{permissionsSummary(key.permissions)}</td>
                  <td class="nowrap">{rateLimitText(key.rateLimit)}</td>
                  <td class="nowrap" title={key.lastUsedAt ?? ''}>{agoText(key.lastUsedAt, props.nowMs)}</td>
                  <td class="num">{countText(key.requestCount)}</td>
                  <td class="num">{countText(key.errorCount)}</td>
                  <td>
                    {key.tags.map((tag) => (
                      <span class="tag">{tag}</span>
                    ))}
                  </td>
                  <td>{key.expiresAt ? timeText(key.expiresAt) : 'Never'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {props.keys.length === 0 ? <p class="empty">No keys match.</p> : null}
        </div>
        <nav class="pagination" aria-label="Pagination">
          <span class="muted">
            {props.total} {props.total === 1 ? 'key' : 'keys'} · page {props.page} of {props.pages}
          </span>
          {props.page > 1 ? (
            <a class="button" href={pageHref(props.page - 1)}>
              Previous page
            </a>
          ) : null}
          {props.page < props.pages ? (
            <a class="button" href={pageHref(props.page + 1)}>
              Next page
            </a>
          ) : null}
        </nav>
      </section>
    </Layout>
  );
}
