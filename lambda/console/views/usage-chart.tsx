/** A key's usage series as an SVG bar chart: requests per bucket, errors stacked in red. No script, no inline style. */
import type { SeriesPoint } from '../../usage/usage-series';
import { countText } from './format';

const WIDTH = 720;
const HEIGHT = 160;
const AXIS = 28;

export function UsageChart(props: { readonly series: readonly SeriesPoint[]; readonly label: string }) {
  const { series } = props;
  const max = Math.max(1, ...series.map((point) => point.requests));
  const slot = (WIDTH - AXIS) / Math.max(1, series.length);
  const bar = Math.max(1, slot - 2);
  const y = (count: number) => (HEIGHT - 18) * (count / max);
  const total = series.reduce((sum, point) => sum + point.requests, 0);
  const errors = series.reduce((sum, point) => sum + point.errors, 0);
  const first = series[0]?.at.slice(11, 16);
  const last = series.at(-1)?.at.slice(11, 16);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 16}`} role="img" aria-label={`${props.label}: ${countText(total)} requests, ${countText(errors)} errors`}>
        <line x1={AXIS} y1={HEIGHT} x2={WIDTH} y2={HEIGHT} stroke="#c5ccd8" />
        <line x1={AXIS} y1={HEIGHT - (HEIGHT - 18)} x2={WIDTH} y2={HEIGHT - (HEIGHT - 18)} stroke="#eef0f4" />
        <text x={AXIS - 4} y={22} text-anchor="end" font-size="11" fill="#5b6576">
          {String(max)}
        </text>
        <text x={AXIS - 4} y={HEIGHT} text-anchor="end" font-size="11" fill="#5b6576">
          0
        </text>
        {series.map((point, index) => {
          const x = AXIS + index * slot + 1;
          const ok = y(point.requests - point.errors);
          const bad = y(point.errors);
          return (
            <g>
              <title>{`${point.at.slice(11, 16)} UTC: ${point.requests} requests, ${point.errors} errors`}</title>
              {ok > 0 ? <rect x={x} y={HEIGHT - ok - bad} width={bar} height={ok} fill="#6f93e8" /> : null}
              {bad > 0 ? <rect x={x} y={HEIGHT - bad} width={bar} height={bad} fill="#d9534f" /> : null}
            </g>
          );
        })}
        {first ? (
          <text x={AXIS} y={HEIGHT + 14} font-size="11" fill="#5b6576">
            {`${first} UTC`}
          </text>
        ) : null}
        {last ? (
          <text x={WIDTH} y={HEIGHT + 14} text-anchor="end" font-size="11" fill="#5b6576">
            {`${last} UTC`}
          </text>
        ) : null}
      </svg>
      <figcaption class="legend">
        <span>
          <span class="swatch ok" /> Requests ({countText(total)})
        </span>
        <span>
          <span class="swatch err" /> Errors ({countText(errors)})
        </span>
      </figcaption>
    </figure>
  );
}
