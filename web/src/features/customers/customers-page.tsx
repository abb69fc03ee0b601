import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, type FormEvent } from 'react';
import { formatCount, formatDateTime, formatPhone } from '../../lib/format.ts';
import { compact } from '../../lib/search.ts';
import { Badge } from '../../ui/badge.tsx';
import { DataTable, type TableFeatureSet } from '../../ui/data-table.tsx';
import { Pager } from '../../ui/pager.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { customerQueries, type Customer } from './customers.queries.ts';

const route = getRouteApi('/app/c/$clientId/customers');
const helper = createColumnHelper<TableFeatureSet, Customer>();

function columns(clientId: string, timezone: string) {
  return helper.columns([
    helper.accessor('phone', {
      header: 'Caller',
      cell: (info) => (
        <>
          <Link to="/c/$clientId/customers/$customerId" params={{ clientId, customerId: info.row.original.id }} className="nowrap">
            {formatPhone(info.getValue())}
          </Link>
          <br />
          <span className="muted small">{info.row.original.name ?? 'Name not known'}</span>
          {info.row.original.opted_out_at ? (
            <>
              {' '}
              <Badge tone="warn">Opted out of texts</Badge>
            </>
          ) : null}
        </>
      ),
    }),
    helper.accessor('last_call_at', { header: 'Last call', cell: (info) => <span className="nowrap">{formatDateTime(info.getValue(), timezone)}</span> }),
    helper.accessor('call_count', { header: 'Calls', cell: (info) => formatCount(info.getValue()) }),
    helper.accessor('appointment_count', { header: 'Appointments', cell: (info) => formatCount(info.getValue()) }),
    helper.accessor('message_count', { header: 'Messages', cell: (info) => formatCount(info.getValue()) }),
  ]);
}

export function CustomersPage() {
  const { clientId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const settings = useQuery(settingsQueries.detail(clientId));
  const timezone = timezoneOf(settings.data);
  const customers = useQuery(customerQueries.list(clientId, search));
  const tableColumns = useMemo(() => columns(clientId, timezone), [clientId, timezone]);
  const applySearch = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const q = new FormData(event.currentTarget).get('q');
    void navigate({ search: compact({ q: typeof q === 'string' && q.trim() !== '' ? q.trim() : undefined }) });
  };

  return (
    <>
      <PageHeader title="Customers" description={`Everyone who called, most recent first, with their calls, appointments and messages. Times in ${timezone}.`} />
      {/* key: the field starts from the URL again when it changes (Back, a shared link). */}
      <form key={search.q ?? ''} className="filters" role="search" onSubmit={applySearch} aria-label="Search customers">
        <label className="field field-grow">
          <span>Search</span>
          <input type="search" name="q" defaultValue={search.q ?? ''} placeholder="A phone number or a name" />
        </label>
        <div className="filter-actions">
          <button type="submit" className="button">
            Search
          </button>
          {search.q ? (
            <button type="button" className="button button-quiet" onClick={() => void navigate({ search: {} })}>
              Clear
            </button>
          ) : null}
        </div>
      </form>
      <QueryState
        query={customers}
        loadingLabel="Loading customers…"
        isEmpty={(page) => page.data.length === 0}
        empty={<Empty title={search.q ? 'No customer matches this search' : 'No customers yet'}>People who call your receptionist appear here.</Empty>}
      >
        {(page) => (
          <>
            <DataTable caption="Customers" columns={tableColumns} data={page.data} rowKey={(c) => c.id} />
            <Pager
              nextCursor={page.next_cursor}
              onFirst={search.cursor === undefined}
              onNext={() => page.next_cursor && void navigate({ search: { ...search, cursor: page.next_cursor } })}
              onFirstPage={() => void navigate({ search: { ...search, cursor: undefined } })}
            />
          </>
        )}
      </QueryState>
    </>
  );
}
