import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { formatDateTime } from '../../lib/format.ts';
import { compact } from '../../lib/search.ts';
import { DataTable, type TableFeatureSet } from '../../ui/data-table.tsx';
import { Pager } from '../../ui/pager.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { operatorQueries, type AuditEntry } from './operator.queries.ts';
import { AUDIT_ACTION_LABELS, AUDIT_ACTIONS, type AuditAction, type AuditSearch } from './operator.search.ts';

const route = getRouteApi('/app/operator/audit');
const helper = createColumnHelper<TableFeatureSet, AuditEntry>();
const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const PAGE_SIZE = 50;

/** `{ changes: [{ path, from, to }] }` as lines; secrets arrive masked. */
export function changesOf(diff: unknown): string[] {
  const changes = (diff as { changes?: unknown } | null)?.changes;
  if (!Array.isArray(changes)) return [];
  const show = (v: unknown) => (v === undefined ? '∅' : typeof v === 'string' ? v : JSON.stringify(v));
  return changes.map((c: { path?: unknown; from?: unknown; to?: unknown }) => `${typeof c.path === 'string' ? c.path.replace(/^\$\./, '') : '?'}: ${show(c.from)} → ${show(c.to)}`);
}

const columns = helper.columns([
  helper.accessor('created_at', { header: 'When', cell: (info) => formatDateTime(info.getValue(), timezone) }),
  helper.accessor('actor', { header: 'Who', cell: (info) => (info.getValue() === 'cli' ? 'Command line (xlnc)' : info.getValue()) }),
  helper.accessor('action', { header: 'What', cell: (info) => AUDIT_ACTION_LABELS[info.getValue() as AuditAction] ?? info.getValue() }),
  helper.accessor('client_id', { header: 'Client', cell: (info) => info.getValue() ?? '–' }),
  helper.accessor('diff', {
    header: 'Changes',
    cell: (info) => {
      const lines = changesOf(info.getValue());
      return lines.length === 0 ? (
        <span className="muted">–</span>
      ) : (
        <ul className="changes">
          {lines.slice(0, 6).map((line) => (
            <li key={line}>
              <code>{line}</code>
            </li>
          ))}
          {lines.length > 6 ? <li className="muted">and {lines.length - 6} more</li> : null}
        </ul>
      );
    },
  }),
]);

export function AuditPage() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const audit = useQuery(operatorQueries.audit({ action: search.action, client_id: search.client, cursor: search.cursor, limit: PAGE_SIZE }));
  const setSearch = (next: AuditSearch) => void navigate({ search: compact(next) });
  return (
    <>
      <PageHeader title="Audit log" description={`Every change to clients and users, newest first. Times in ${timezone}.`} />
      <div className="filters">
        <label className="field">
          <span>Action</span>
          <select value={search.action ?? ''} onChange={(e) => setSearch({ client: search.client, action: (e.target.value || undefined) as AuditSearch['action'] })}>
            <option value="">Any</option>
            {AUDIT_ACTIONS.map((action) => (
              <option key={action} value={action}>
                {AUDIT_ACTION_LABELS[action]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <QueryState query={audit} loadingLabel="Loading the audit log…" isEmpty={(page) => page.items.length === 0} empty={<Empty title="Nothing recorded yet">Changes made through the admin API or the CLI appear here.</Empty>}>
        {(page) => (
          <>
            <DataTable caption="Audit log" columns={columns} data={page.items} rowKey={(entry) => String(entry.id)} />
            <Pager
              nextCursor={page.next_cursor}
              onFirst={search.cursor === undefined}
              onNext={() => page.next_cursor && setSearch({ ...search, cursor: page.next_cursor })}
              onFirstPage={() => setSearch({ ...search, cursor: undefined })}
            />
          </>
        )}
      </QueryState>
    </>
  );
}
