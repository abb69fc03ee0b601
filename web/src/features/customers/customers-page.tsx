import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { formatCount, formatDateTime, formatPhone } from '../../lib/format.ts';
import { compact } from '../../lib/search.ts';
import { Badge } from '../../ui/badge.tsx';
import type { TableFeatureSet } from '../../ui/data-table.tsx';
import { FilterBar, SearchField, type FieldValue } from '../../ui/filter-bar.tsx';
import { PagedTable } from '../../ui/paged-table.tsx';
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
  const applySearch = (value: FieldValue) => void navigate({ search: compact({ q: value('q') }) });

  return (
    <>
      <PageHeader title="Customers" description={`Everyone who called, most recent first, with their calls, appointments and messages. Times in ${timezone}.`} />
      <FilterBar label="Search customers" role="search" urlKey={search.q ?? ''} submitLabel="Search" onApply={applySearch} onClear={search.q ? () => void navigate({ search: {} }) : undefined}>
        <SearchField value={search.q} placeholder="A phone number or a name" />
      </FilterBar>
      <QueryState
        query={customers}
        loadingLabel="Loading customers…"
        isEmpty={(page) => page.data.length === 0}
        empty={<Empty title={search.q ? 'No customer matches this search' : 'No customers yet'}>People who call your receptionist appear here.</Empty>}
      >
        {(page) => (
          <PagedTable
            caption="Customers"
            columns={tableColumns}
            rows={page.data}
            rowKey={(c) => c.id}
            nextCursor={page.next_cursor}
            cursor={search.cursor}
            onCursor={(cursor) => void navigate({ search: { ...search, cursor } })}
          />
        )}
      </QueryState>
    </>
  );
}
