import { useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { saveBlob } from '../../lib/download.ts';
import { formatDateTime, formatDuration, formatPhone } from '../../lib/format.ts';
import { compact } from '../../lib/search.ts';
import { Badge, statusTone } from '../../ui/badge.tsx';
import { DataTable, type TableFeatureSet } from '../../ui/data-table.tsx';
import { FilterBar, SearchField, type FieldValue } from '../../ui/filter-bar.tsx';
import { Pager } from '../../ui/pager.tsx';
import { Empty, ErrorState, PageHeader, QueryState } from '../../ui/states.tsx';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { callQueries, exportCalls, type CallSummary } from './calls.queries.ts';
import { DIRECTION_LABELS, DIRECTIONS, OUTCOME_LABELS, OUTCOMES, SENTIMENT_LABELS, SENTIMENTS, type CallsSearch } from './calls.search.ts';

const route = getRouteApi('/app/c/$clientId/calls');
const helper = createColumnHelper<TableFeatureSet, CallSummary>();

function columns(clientId: string, timezone: string) {
  return helper.columns([
    helper.accessor('started_at', {
      header: 'When',
      cell: (info) => (
        <Link to="/c/$clientId/calls/$callId" params={{ clientId, callId: info.row.original.call_id }} className="row-link">
          {formatDateTime(info.getValue() ?? info.row.original.created_at, timezone)}
        </Link>
      ),
    }),
    helper.accessor((call) => (call.direction === 'outbound' ? call.to_number : call.from_number), {
      id: 'caller',
      header: 'Caller',
      cell: (info) => (
        <>
          {formatPhone(info.getValue())}
          {info.row.original.direction === 'outbound' ? <span className="muted small"> (outbound)</span> : null}
        </>
      ),
    }),
    helper.accessor('outcome', { header: 'Outcome', cell: (info) => <Badge tone={info.getValue() === 'booked' ? 'good' : info.getValue() === 'no_answer' ? 'warn' : 'neutral'}>{OUTCOME_LABELS[info.getValue()]}</Badge> }),
    helper.accessor('duration_ms', { header: 'Length', cell: (info) => formatDuration(info.getValue()) }),
    helper.accessor('sentiment', {
      header: 'Sentiment',
      cell: (info) => {
        const value = info.getValue()?.toLowerCase() ?? null;
        return value ? <Badge tone={statusTone(value)}>{value.charAt(0).toUpperCase() + value.slice(1)}</Badge> : <span className="muted">–</span>;
      },
    }),
    helper.accessor('summary', { header: 'Summary', cell: (info) => <span className="clamp">{info.getValue() ?? '–'}</span> }),
  ]);
}

export function CallsPage() {
  const { clientId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const settings = useQuery(settingsQueries.detail(clientId));
  const timezone = timezoneOf(settings.data);
  const calls = useQuery(callQueries.list(clientId, search));
  const [exporting, setExporting] = useState<'idle' | 'busy' | 'failed'>('idle');
  const [exportError, setExportError] = useState<unknown>(null);
  const queryClient = useQueryClient();
  const tableColumns = useMemo(() => columns(clientId, timezone), [clientId, timezone]);

  const setSearch = (next: CallsSearch) => void navigate({ search: compact(next) });
  const applyFilters = (value: FieldValue) =>
    setSearch({
      from: value('from'),
      to: value('to'),
      outcome: value('outcome') as CallsSearch['outcome'],
      sentiment: value('sentiment') as CallsSearch['sentiment'],
      direction: value('direction') as CallsSearch['direction'],
      q: value('q'),
    });
  const download = async () => {
    setExporting('busy');
    try {
      const { blob, fileName } = await exportCalls(clientId, search);
      saveBlob(blob, fileName ?? `calls-${clientId}.csv`);
      setExporting('idle');
    } catch (error) {
      setExportError(error);
      setExporting('failed');
    }
  };
  const filtered = Object.keys(search).some((key) => key !== 'cursor');

  return (
    <>
      <PageHeader
        title="Calls"
        description={`Every call your receptionist handled, newest first. Times in ${timezone}.`}
        actions={
          <button type="button" className="button" onClick={() => void download()} disabled={exporting === 'busy'}>
            {exporting === 'busy' ? 'Preparing CSV…' : 'Export CSV'}
          </button>
        }
      />
      {exporting === 'failed' ? <ErrorState error={exportError} retry={() => void download()} /> : null}
      <FilterBar label="Filter calls" urlKey={JSON.stringify(search)} onApply={applyFilters} onClear={filtered ? () => setSearch({}) : undefined}>
        <SearchField value={search.q} placeholder="Words said in the call, or a phone number" />
        <label className="field">
          <span>From</span>
          <input type="date" name="from" defaultValue={search.from ?? ''} />
        </label>
        <label className="field">
          <span>To</span>
          <input type="date" name="to" defaultValue={search.to ?? ''} />
        </label>
        <label className="field">
          <span>Outcome</span>
          <select name="outcome" defaultValue={search.outcome ?? ''}>
            <option value="">Any</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {OUTCOME_LABELS[o]}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Sentiment</span>
          <select name="sentiment" defaultValue={search.sentiment ?? ''}>
            <option value="">Any</option>
            {SENTIMENTS.map((s) => (
              <option key={s} value={s}>
                {SENTIMENT_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Direction</span>
          <select name="direction" defaultValue={search.direction ?? ''}>
            <option value="">Any</option>
            {DIRECTIONS.map((d) => (
              <option key={d} value={d}>
                {DIRECTION_LABELS[d]}
              </option>
            ))}
          </select>
        </label>
      </FilterBar>
      <QueryState
        query={calls}
        loadingLabel="Loading calls…"
        isEmpty={(page) => page.data.length === 0}
        empty={<Empty title={filtered ? 'No calls match these filters' : 'No calls yet'}>{filtered ? 'Try fewer filters or a longer period.' : 'Calls appear here as soon as your receptionist answers one.'}</Empty>}
      >
        {(page) => (
          <>
            <DataTable caption="Calls" columns={tableColumns} data={page.data} rowKey={(call) => call.call_id} />
            <Pager
              nextCursor={page.next_cursor}
              onFirst={search.cursor === undefined}
              onNext={() => {
                if (page.next_cursor) void navigate({ search: { ...search, cursor: page.next_cursor } });
              }}
              onFirstPage={() => {
                void queryClient.invalidateQueries({ queryKey: callQueries.all(clientId) });
                void navigate({ search: { ...search, cursor: undefined } });
              }}
            />
          </>
        )}
      </QueryState>
    </>
  );
}
