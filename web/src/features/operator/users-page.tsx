import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { formatDateTime } from '../../lib/format.ts';
import { compact } from '../../lib/search.ts';
import { Badge } from '../../ui/badge.tsx';
import { DataTable, type TableFeatureSet } from '../../ui/data-table.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { operatorQueries, type User } from './operator.queries.ts';
import { ROLE_LABELS, ROLES, type UsersSearch } from './operator.search.ts';

const route = getRouteApi('/app/operator/users');
const helper = createColumnHelper<TableFeatureSet, User>();
const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const columns = helper.columns([
  helper.accessor('email', { header: 'Email' }),
  helper.accessor('role', { header: 'Role', cell: (info) => ROLE_LABELS[info.getValue()] }),
  helper.accessor('client_id', {
    header: 'Client',
    cell: (info) => {
      const clientId = info.getValue();
      return clientId ? (
        <Link to="/c/$clientId" params={{ clientId }}>
          {clientId}
        </Link>
      ) : (
        <span className="muted">All clients</span>
      );
    },
  }),
  helper.accessor('disabled', { header: 'Access', cell: (info) => (info.getValue() ? <Badge tone="bad">Disabled</Badge> : <Badge tone="good">Active</Badge>) }),
  helper.accessor('last_login_at', { header: 'Last sign-in', cell: (info) => (info.getValue() ? formatDateTime(info.getValue(), timezone) : 'Never') }),
]);

export function UsersPage() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const users = useQuery(operatorQueries.users({ role: search.role, client_id: search.client }));
  const setSearch = (next: UsersSearch) => void navigate({ search: compact(next), replace: true });
  return (
    <>
      <PageHeader title="Users" description={`Everyone who can sign in. Times in ${timezone}.`} />
      <div className="filters">
        <label className="field">
          <span>Role</span>
          <select value={search.role ?? ''} onChange={(e) => setSearch({ ...search, role: (e.target.value || undefined) as UsersSearch['role'] })}>
            <option value="">Any</option>
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {ROLE_LABELS[role]}
              </option>
            ))}
          </select>
        </label>
        {search.client ? (
          <p className="filter-chip">
            Client {search.client}{' '}
            <button type="button" className="button button-quiet button-small" onClick={() => setSearch({ ...search, client: undefined })}>
              Show all
            </button>
          </p>
        ) : null}
      </div>
      <QueryState query={users} loadingLabel="Loading users…" isEmpty={(data) => data.users.length === 0} empty={<Empty title="No users match">Create users with `npx xlnc users create` or the admin API.</Empty>}>
        {(data) => <DataTable caption="Users" columns={columns} data={data.users} rowKey={(u) => u.id} />}
      </QueryState>
    </>
  );
}
