/** Alerts on unusual activity as the console shows them: their types in plain words, and the "Alerts" table. */
import type { Alert, AlertType } from '../../alerts/alert';
import { agoText, timeText } from './format';

/** What each alert type is called on the page; the API's type names stay in the filter's values. */
export const ALERT_TYPE_LABELS: Record<AlertType, string> = {
  'error-rate': 'Error rate spike',
  'request-rate': 'Request rate spike',
  'new-source': 'New source IP',
  'retired-credential': 'Retired credential used',
};

export function alertTypeLabel(type: string): string {
  return ALERT_TYPE_LABELS[type as AlertType] ?? type;
}

export const NO_ALERTS = 'No unusual activity.';

export interface AlertTableProps {
  readonly alerts: readonly Alert[];
  /** The tenant page names each alert's key; a key's own page does not need to. */
  readonly showKey?: boolean;
  readonly nowMs: number;
  /** What the empty state says. @default NO_ALERTS */
  readonly empty?: string;
  /** A card among others says it in a line; a page of its own, in the middle. @default false */
  readonly compact?: boolean;
}

export function AlertTable(props: AlertTableProps) {
  if (props.alerts.length === 0) return <p class={props.compact ? 'muted' : 'empty'}>{props.empty ?? NO_ALERTS}</p>;
  return (
    <div class="table-wrap">
      <table aria-label="Alerts">
        <thead>
          <tr>
            {props.showKey ? <th scope="col">Key</th> : null}
            <th scope="col">When</th>
            <th scope="col">Type</th>
            <th scope="col">Summary</th>
          </tr>
        </thead>
        <tbody>
          {props.alerts.map((alert) => (
            <tr>
              {props.showKey ? (
                <th scope="row">
                  <a href={`/console/keys/${alert.keyId}`}>{alert.keyName}</a>
                </th>
              ) : null}
              <td class="when" title={alert.at}>
                {timeText(alert.at)}
                <div class="muted">{agoText(alert.at, props.nowMs)}</div>
              </td>
              <td class="nowrap">
                <span class={`badge alert-${alert.type}`}>{alertTypeLabel(alert.type)}</span>
              </td>
              <td>
                {alert.summary}
                {alert.window ? <div class="muted">{windowText(alert.window)}</div> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "Window 2026-12-02 03:05–03:10 UTC"; the end keeps its date when the window spans midnight. */
function windowText(window: { readonly from: string; readonly to: string }): string {
  const from = timeText(window.from);
  const to = timeText(window.to);
  const sameDay = from.slice(0, 10) === to.slice(0, 10);
  return `Window ${from.replace(' UTC', '')}–${sameDay ? to.slice(11) : to}`;
}
