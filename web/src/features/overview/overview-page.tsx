import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { daysInRange, lastDays, previousPeriod, rangeFrom, type DateRange } from '../../lib/dates.ts';
import { formatCount, formatCountOf, formatDay, formatPercent } from '../../lib/format.ts';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { OUTCOME_LABELS, SENTIMENT_LABELS } from '../calls/calls.search.ts';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { BusiestHours } from './busiest-hours.tsx';
import { CallsChart } from './calls-chart.tsx';
import { callsPerDay, headlineFigures, shares } from './figures.ts';
import { overviewQueries, type Analytics } from './overview.queries.ts';

const route = getRouteApi('/app/c/$clientId/');
const PRESETS = [7, 30, 90] as const;

export function OverviewPage() {
  const { clientId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const settings = useQuery(settingsQueries.detail(clientId));
  const timezone = timezoneOf(settings.data);
  const range = rangeFrom(search, lastDays(30, timezone));
  const previous = previousPeriod(range);
  const current = useQuery({ ...overviewQueries.analytics(clientId, range), enabled: settings.isSuccess || settings.isError });
  const before = useQuery({ ...overviewQueries.analytics(clientId, previous), enabled: current.isSuccess });

  const setRange = (next: DateRange) => void navigate({ search: next, replace: true });
  return (
    <>
      <PageHeader
        title="Overview"
        description={`${formatDay(range.from)} – ${formatDay(range.to)}, compared with the ${formatCountOf(daysInRange(range.from, range.to), 'day')} before. Times in ${timezone}.`}
        actions={<RangePicker range={range} timezone={timezone} onChange={setRange} />}
      />
      <QueryState
        query={current}
        loadingLabel="Loading figures…"
        isEmpty={(data) => data.totals.calls === 0 && (before.data?.totals.calls ?? 0) === 0}
        empty={
          <Empty title="No calls in this period">
            Calls appear here as soon as your receptionist answers them. Try a longer period, or check the{' '}
            <Link to="/c/$clientId/settings" params={{ clientId }}>
              Retell setup
            </Link>
            .
          </Empty>
        }
      >
        {(data) => <OverviewBody data={data} previous={before.data} range={range} timezone={timezone} clientId={clientId} />}
      </QueryState>
    </>
  );
}

function RangePicker({ range, timezone, onChange }: { range: DateRange; timezone: string; onChange: (range: DateRange) => void }) {
  return (
    <div className="range-picker">
      <div className="segmented" role="group" aria-label="Period">
        {PRESETS.map((days) => {
          const preset = lastDays(days, timezone);
          const active = preset.from === range.from && preset.to === range.to;
          return (
            <button key={days} type="button" className={active ? 'active' : undefined} aria-pressed={active} onClick={() => onChange(preset)}>
              {days} days
            </button>
          );
        })}
      </div>
      <label className="field field-inline">
        <span>From</span>
        <input type="date" value={range.from} max={range.to} onChange={(e) => e.target.value && onChange({ from: e.target.value, to: range.to })} />
      </label>
      <label className="field field-inline">
        <span>To</span>
        <input type="date" value={range.to} min={range.from} onChange={(e) => e.target.value && onChange({ from: range.from, to: e.target.value })} />
      </label>
    </div>
  );
}

function OverviewBody({ data, previous, range, timezone, clientId }: { data: Analytics; previous: Analytics | undefined; range: DateRange; timezone: string; clientId: string }) {
  const figures = headlineFigures(data, previous);
  const perDay = callsPerDay(data, range);
  const outcomes = shares(data.outcomes, OUTCOME_LABELS);
  const sentiment = shares(data.sentiment, SENTIMENT_LABELS);
  return (
    <div className="overview">
      <section aria-labelledby="figures-title">
        <h2 id="figures-title" className="visually-hidden">
          Figures
        </h2>
        {previous !== undefined && previous.totals.calls === 0 ? (
          <p className="muted small">No calls in the {daysInRange(range.from, range.to)} days before this period, so there is nothing to compare with yet.</p>
        ) : null}
        <ul className="figures">
          {figures.map((figure) => (
            <li key={figure.key} className="figure" aria-label={`${figure.label}: ${figure.value}`} data-figure={figure.key}>
              <span className="figure-label">{figure.label}</span>
              <span className="figure-value">{figure.value}</span>
              {figure.change ? <span className={`figure-change trend-${figure.trend ?? 'flat'}`}>{figure.change}</span> : null}
              {figure.detail ? <span className="figure-detail muted">{figure.detail}</span> : null}
            </li>
          ))}
        </ul>
      </section>

      <section className="card" aria-labelledby="per-day-title">
        <h2 id="per-day-title">Calls per day</h2>
        <CallsChart dates={perDay.dates} calls={perDay.calls} booked={perDay.booked} />
      </section>

      <div className="two-columns">
        <section className="card" aria-labelledby="outcomes-title">
          <h2 id="outcomes-title">How calls ended</h2>
          <BarList rows={outcomes} link={(key) => ({ clientId, outcome: key, from: range.from, to: range.to })} />
        </section>
        <section className="card" aria-labelledby="sentiment-title">
          <h2 id="sentiment-title">Caller sentiment</h2>
          <BarList rows={sentiment} />
        </section>
      </div>

      <section className="card" aria-labelledby="hours-title">
        <h2 id="hours-title">Busiest hours</h2>
        <p className="muted small">Darker means more calls. Hours in {timezone}.</p>
        <BusiestHours grid={data.calls_by_hour_of_week} timezone={timezone} />
      </section>
    </div>
  );
}

function BarList<K extends string>({
  rows,
  link,
}: {
  rows: { key: K; label: string; count: number; share: number }[];
  link?: (key: K) => { clientId: string; outcome: K; from: string; to: string };
}) {
  return (
    <ul className="bar-list">
      {rows.map((row) => {
        const target = link?.(row.key);
        const label = (
          <>
            <span className="bar-label">{row.label}</span>
            <span className="bar-count">
              {formatCount(row.count)} <span className="muted">({formatPercent(row.share)})</span>
            </span>
          </>
        );
        return (
          <li key={row.key}>
            {target ? (
              <Link to="/c/$clientId/calls" params={{ clientId: target.clientId }} search={{ outcome: target.outcome as never, from: target.from, to: target.to }} className="bar-head">
                {label}
              </Link>
            ) : (
              <div className="bar-head">{label}</div>
            )}
            <div className="bar-track" aria-hidden="true">
              <div className={`bar-fill bar-${row.key}`} style={{ width: `${Math.round(row.share * 100)}%` }} />
            </div>
          </li>
        );
      })}
    </ul>
  );
}
