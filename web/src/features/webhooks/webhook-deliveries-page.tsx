/** One subscription's delivery log, newest first: each event's status, answer, latency and attempts; failed ones can be sent again. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { api, isApiError } from '../../lib/api.ts';
import { formatDateTime } from '../../lib/format.ts';
import { compact } from '../../lib/search.ts';
import { Badge } from '../../ui/badge.tsx';
import type { TableFeatureSet } from '../../ui/data-table.tsx';
import { PagedTable } from '../../ui/paged-table.tsx';
import { Empty, ErrorState, PageHeader, QueryState } from '../../ui/states.tsx';
import { authQueries } from '../auth/auth.queries.ts';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { Problem } from './subscription-dialogs.tsx';
import { webhookQueries, type Delivery } from './webhooks.queries.ts';
import { DELIVERY_STATUS_LABELS, DELIVERY_STATUSES, deliveryTone, type DeliveriesSearch } from './webhooks.search.ts';

const route = getRouteApi('/app/c/$clientId/webhooks/$subscriptionId');
const helper = createColumnHelper<TableFeatureSet, Delivery>();

function ReplayButton({ clientId, delivery, onProblem }: { clientId: string; delivery: Delivery; onProblem: (problem: string | null) => void }) {
  const queryClient = useQueryClient();
  const replay = useMutation({
    mutationFn: () => api.post('/api/clients/{clientId}/webhook-deliveries/{deliveryId}/replay', {}, { path: { clientId, deliveryId: delivery.id } }),
    onSuccess: () => {
      onProblem(null);
      void queryClient.invalidateQueries({ queryKey: webhookQueries.all(clientId) });
    },
    onError: (caught) => onProblem(isApiError(caught) && caught.status < 500 ? caught.message : 'The replay failed. Please try again.'),
  });
  return (
    <button type="button" className="button button-small" disabled={replay.isPending} onClick={() => replay.mutate()} aria-label={`Replay ${delivery.event_type} of ${formatDateTime(delivery.created_at, 'UTC')}`}>
      {replay.isPending ? 'Replaying…' : 'Replay'}
    </button>
  );
}

function columns(clientId: string, timezone: string, canChange: boolean, onProblem: (problem: string | null) => void) {
  const shown = [
    helper.accessor('created_at', { header: 'When', cell: (info) => <span className="nowrap">{formatDateTime(info.getValue(), timezone)}</span> }),
    helper.accessor('event_type', { header: 'Event', cell: (info) => <code>{info.getValue()}</code> }),
    helper.accessor('status', {
      header: 'Status',
      cell: (info) => (
        <>
          <Badge tone={deliveryTone(info.getValue())}>{DELIVERY_STATUS_LABELS[info.getValue()]}</Badge>
          {info.row.original.last_error ? <span className="cell-note error-text small">{info.row.original.last_error}</span> : null}
          {info.getValue() === 'pending' && info.row.original.next_attempt_at ? (
            <span className="cell-note muted small">Next try {formatDateTime(info.row.original.next_attempt_at, timezone)}</span>
          ) : null}
        </>
      ),
    }),
    helper.accessor('last_status_code', { header: 'Response', cell: (info) => (info.getValue() === null ? '–' : `HTTP ${info.getValue()}`) }),
    helper.accessor('last_latency_ms', { header: 'Latency', cell: (info) => (info.getValue() === null ? '–' : `${info.getValue()} ms`) }),
    helper.accessor('attempts', { header: 'Attempts', cell: (info) => info.getValue() }),
  ];
  if (!canChange) return helper.columns(shown);
  return helper.columns([
    ...shown,
    helper.display({
      id: 'actions',
      header: 'Actions',
      cell: (info) =>
        info.row.original.status === 'dead' || info.row.original.status === 'succeeded' ? <ReplayButton clientId={clientId} delivery={info.row.original} onProblem={onProblem} /> : null,
    }),
  ]);
}

export function WebhookDeliveriesPage() {
  const { clientId, subscriptionId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const me = useQuery(authQueries.me());
  const canChange = me.data?.role === 'client_admin' || me.data?.role === 'platform_admin';
  const settings = useQuery(settingsQueries.detail(clientId));
  const timezone = timezoneOf(settings.data);
  const subscription = useQuery(webhookQueries.subscription(clientId, subscriptionId));
  const deliveries = useQuery(webhookQueries.deliveries(clientId, subscriptionId, search));
  const [problem, setProblem] = useState<string | null>(null);
  const tableColumns = useMemo(() => columns(clientId, timezone, canChange, setProblem), [clientId, timezone, canChange]);

  if (subscription.error) return <ErrorState error={subscription.error} retry={() => void subscription.refetch()} />;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/c/$clientId/webhooks" params={{ clientId }}>
          Webhooks
        </Link>{' '}
        <span aria-hidden="true">/</span>
      </nav>
      <PageHeader
        title="Delivery log"
        description={
          <>
            <span className="endpoint">{subscription.data?.url ?? '…'}</span>
            <br />
            Newest first; failed deliveries are retried for 24 hours. Times in {timezone}.
          </>
        }
      />
      {subscription.data?.status === 'disabled' ? (
        <p className="notice" role="status">
          This webhook is disabled{subscription.data.disabled_reason ? `: ${subscription.data.disabled_reason}` : ''}. Enable it on the Webhooks page before replaying.
        </p>
      ) : null}
      <div className="filters">
        <label className="field">
          <span>Status</span>
          <select value={search.status ?? ''} onChange={(e) => void navigate({ search: compact({ status: (e.target.value || undefined) as DeliveriesSearch['status'] }) })}>
            <option value="">Any</option>
            {DELIVERY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {DELIVERY_STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Problem text={problem} />
      <QueryState
        query={deliveries}
        loadingLabel="Loading deliveries…"
        isEmpty={(page) => page.items.length === 0}
        empty={<Empty title={search.status ? 'No deliveries match this filter' : 'No deliveries yet'}>Each event this webhook listens to appears here as it is sent.</Empty>}
      >
        {(page) => (
          <PagedTable
            caption="Deliveries"
            columns={tableColumns}
            rows={page.items}
            rowKey={(d) => d.id}
            nextCursor={page.next_cursor}
            cursor={search.cursor}
            onCursor={(cursor) => void navigate({ search: { ...search, cursor } })}
          />
        )}
      </QueryState>
    </>
  );
}
