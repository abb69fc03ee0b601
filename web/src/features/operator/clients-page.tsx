import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { createColumnHelper, type SortingState } from '@tanstack/react-table';
import { useMemo } from 'react';
import { formatCountOf } from '../../lib/format.ts';
import { compact } from '../../lib/search.ts';
import { Badge, statusTone } from '../../ui/badge.tsx';
import { DataTable, type TableFeatureSet } from '../../ui/data-table.tsx';
import { FilterBar, SearchField, type FieldValue } from '../../ui/filter-bar.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { AddClientWizard, DoctorButton } from './add-client-wizard.tsx';
import { healthOf, visibleClients } from './client-health.ts';
import { operatorQueries, type ClientSummary } from './operator.queries.ts';
import { CLIENT_SORTS, CLIENT_STATUS_LABELS, CLIENT_STATUSES, type ClientsSearch } from './operator.search.ts';

const route = getRouteApi('/app/operator/');
const helper = createColumnHelper<TableFeatureSet, ClientSummary>();

/** Open alerts of one client, from the alerts summary (`/api/admin/alerts` counts). */
function OpenAlerts({ clientId, counts }: { clientId: string; counts: Map<string, number> | undefined }) {
  if (!counts) return <span className="muted">…</span>;
  const open = counts.get(clientId) ?? 0;
  if (open === 0) return <span className="muted">None</span>;
  return (
    <Link to="/operator/alerts" search={{ client: clientId }} aria-label={`${formatCountOf(open, 'open alert')} for ${clientId}`}>
      <Badge tone="bad">{`${open} open`}</Badge>
    </Link>
  );
}

const columnsFor = (counts: Map<string, number> | undefined) => helper.columns([
  helper.accessor('name', {
    header: 'Client',
    cell: (info) => (
      <>
        <Link to="/c/$clientId" params={{ clientId: info.row.original.id }} className="row-link">
          {info.getValue() ?? info.row.original.id}
        </Link>
        {info.getValue() !== null ? (
          <>
            <br />
            <span className="muted small">{info.row.original.id}</span>
          </>
        ) : null}
      </>
    ),
  }),
  helper.accessor('status', { header: 'Status', cell: (info) => <Badge tone={statusTone(info.getValue())}>{CLIENT_STATUS_LABELS[info.getValue()]}</Badge> }),
  helper.accessor((client) => healthOf(client).level, {
    id: 'health',
    header: 'Health',
    cell: (info) => {
      const health = healthOf(info.row.original);
      return (
        <>
          <Badge tone={health.level === 'ok' ? 'good' : health.level}>{health.label}</Badge>
          {health.problems.length > 0 ? (
            <ul className="problems">
              {health.problems.slice(0, 3).map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          ) : null}
        </>
      );
    },
  }),
  helper.accessor('environment', {
    header: 'Mode',
    enableSorting: false,
    cell: (info) => (info.getValue() === 'test' ? <Badge tone="info">Test</Badge> : info.getValue() === 'live' ? 'Live' : '–'),
  }),
  helper.display({ id: 'alerts', header: 'Alerts', cell: (info) => <OpenAlerts clientId={info.row.original.id} counts={counts} /> }),
  helper.accessor('source', { header: 'Defined in', enableSorting: false, cell: (info) => (info.getValue() === 'file' ? 'File' : 'Database') }),
  helper.display({ id: 'doctor', header: 'Checks', cell: (info) => <DoctorButton clientId={info.row.original.id} /> }),
]);

const SORT_COLUMN: Record<(typeof CLIENT_SORTS)[number], string> = { id: 'name', name: 'name', status: 'status', health: 'health' };

export function ClientsPage() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const clients = useQuery(operatorQueries.clients());
  const alerts = useQuery(operatorQueries.alerts());
  const columns = useMemo(() => {
    if (!alerts.data) return columnsFor(undefined);
    const counts = new Map<string, number>();
    for (const row of alerts.data.counts) counts.set(row.client_id, (counts.get(row.client_id) ?? 0) + row.count);
    return columnsFor(counts);
  }, [alerts.data]);
  const sorting: SortingState = [{ id: SORT_COLUMN[search.sort ?? 'health'], desc: search.desc ?? false }];
  const visible = useMemo(() => (clients.data ? visibleClients(clients.data.clients, search) : []), [clients.data, search]);

  const setSearch = (next: ClientsSearch) => void navigate({ search: compact(next), replace: true });
  const onSortingChange = (next: SortingState) => {
    const first = next[0];
    if (!first) return;
    const sort = (CLIENT_SORTS as readonly string[]).includes(first.id) ? (first.id as ClientsSearch['sort']) : 'name';
    setSearch({ ...search, sort, desc: first.desc || undefined });
  };
  const applySearch = (value: FieldValue) => setSearch({ ...search, q: value('q') });
  const counts = clients.data ? { total: clients.data.clients.length, problems: clients.data.clients.filter((c) => healthOf(c).level !== 'ok').length } : null;

  return (
    <>
      <PageHeader
        title="Clients"
        actions={<AddClientWizard />}
        description={counts ? `${formatCountOf(counts.total, 'client')}, ${counts.problems === 0 ? 'all healthy' : `${counts.problems} need${counts.problems === 1 ? 's' : ''} attention`}.` : 'Every client and its health.'}
      />
      <FilterBar label="Filter clients" urlKey={search.q ?? ''} submitLabel="Search" onApply={applySearch}>
        <SearchField value={search.q} placeholder="Name or id" />
        <label className="field">
          <span>Status</span>
          <select value={search.status ?? ''} onChange={(e) => setSearch({ ...search, status: (e.target.value || undefined) as ClientsSearch['status'] })}>
            <option value="">Any</option>
            {CLIENT_STATUSES.map((status) => (
              <option key={status} value={status}>
                {CLIENT_STATUS_LABELS[status]}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={search.health === 'problems'} onChange={(e) => setSearch({ ...search, health: e.target.checked ? 'problems' : undefined })} />
          Only clients with problems
        </label>
      </FilterBar>
      <QueryState
        query={clients}
        loadingLabel="Loading clients…"
        isEmpty={() => visible.length === 0}
        empty={<Empty title={clients.data?.clients.length === 0 ? 'No clients yet' : 'No client matches'}>{clients.data?.clients.length === 0 ? 'Add a file to config/clients/ or create one through the admin API.' : 'Change the search or the filters.'}</Empty>}
      >
        {() => <DataTable caption="Clients" columns={columns} data={visible} rowKey={(c) => c.id} sorting={sorting} onSortingChange={onSortingChange} />}
      </QueryState>
    </>
  );
}
