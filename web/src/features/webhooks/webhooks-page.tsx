/**
 * A client's outbound webhooks: where its events go, whether they arrive, and (for its admins and
 * the operator) adding, changing, rotating, switching off and deleting them. Viewers read only.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { api, isApiError } from '../../lib/api.ts';
import { formatDateTime } from '../../lib/format.ts';
import { Badge } from '../../ui/badge.tsx';
import { DataTable, type TableFeatureSet } from '../../ui/data-table.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { authQueries } from '../auth/auth.queries.ts';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { DeleteSubscriptionDialog, Problem, RotateSecretDialog, SubscriptionDialog } from './subscription-dialogs.tsx';
import { webhookQueries, type Subscription } from './webhooks.queries.ts';
import { DELIVERY_STATUS_LABELS, deliveryTone } from './webhooks.search.ts';

const route = getRouteApi('/app/c/$clientId/webhooks');
const helper = createColumnHelper<TableFeatureSet, Subscription>();

function ToggleButton({ clientId, subscription, onProblem }: { clientId: string; subscription: Subscription; onProblem: (problem: string) => void }) {
  const queryClient = useQueryClient();
  const next = subscription.status === 'active' ? 'disabled' : 'active';
  const toggle = useMutation({
    mutationFn: () => api.patch('/api/clients/{clientId}/webhook-subscriptions/{subscriptionId}', { status: next }, { path: { clientId, subscriptionId: subscription.id } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: webhookQueries.all(clientId) }),
    onError: (caught) => onProblem(isApiError(caught) && caught.status < 500 ? caught.message : 'The change failed. Please try again.'),
  });
  const label = next === 'disabled' ? 'Disable' : 'Enable';
  return (
    <button type="button" className="button button-small" disabled={toggle.isPending} onClick={() => toggle.mutate()} aria-label={`${label} ${subscription.url}`}>
      {label}
    </button>
  );
}

function columns(clientId: string, timezone: string, canChange: boolean, onProblem: (problem: string) => void) {
  return helper.columns([
    helper.accessor('url', {
      header: 'Endpoint',
      cell: (info) => (
        <>
          <span className="endpoint">{info.getValue()}</span>
          {info.row.original.description ? <span className="cell-note muted small">{info.row.original.description}</span> : null}
          <span className="cell-note muted small">Secret {info.row.original.secret_hint}{info.row.original.previous_secret_valid_until ? ` · old secret valid until ${formatDateTime(info.row.original.previous_secret_valid_until, timezone)}` : ''}</span>
        </>
      ),
    }),
    helper.accessor('event_types', {
      header: 'Events',
      cell: (info) => (
        <ul className="event-list">
          {info.getValue().map((type) => (
            <li key={type}>
              <code>{type}</code>
            </li>
          ))}
        </ul>
      ),
    }),
    helper.accessor('status', {
      header: 'Status',
      cell: (info) => (
        <>
          <Badge tone={info.getValue() === 'active' ? 'good' : 'bad'}>{info.getValue() === 'active' ? 'Active' : 'Disabled'}</Badge>
          {info.row.original.disabled_reason ? <span className="cell-note muted small">{info.row.original.disabled_reason}</span> : null}
          {info.getValue() === 'active' && info.row.original.failing_since ? (
            <span className="cell-note error-text small">Failing since {formatDateTime(info.row.original.failing_since, timezone)}</span>
          ) : null}
        </>
      ),
    }),
    helper.accessor('last_delivery', {
      header: 'Last delivery',
      cell: (info) => {
        const last = info.getValue();
        if (!last) return <span className="muted">None yet</span>;
        return (
          <>
            <Badge tone={deliveryTone(last.status)}>{DELIVERY_STATUS_LABELS[last.status]}</Badge>
            {last.last_status_code !== null ? <span className="muted small"> HTTP {last.last_status_code}</span> : null}
            <span className="cell-note muted small nowrap">{formatDateTime(last.created_at, timezone)}</span>
          </>
        );
      },
    }),
    helper.display({
      id: 'actions',
      header: 'Actions',
      cell: (info) => {
        const subscription = info.row.original;
        return (
          <div className="row-actions">
            <Link to="/c/$clientId/webhooks/$subscriptionId" params={{ clientId, subscriptionId: subscription.id }} className="button button-small" aria-label={`Delivery log of ${subscription.url}`}>
              Delivery log
            </Link>
            {canChange ? (
              <>
                <SubscriptionDialog clientId={clientId} subscription={subscription} />
                <RotateSecretDialog clientId={clientId} subscription={subscription} />
                <ToggleButton clientId={clientId} subscription={subscription} onProblem={onProblem} />
                <DeleteSubscriptionDialog clientId={clientId} subscription={subscription} />
              </>
            ) : null}
          </div>
        );
      },
    }),
  ]);
}

export function WebhooksPage() {
  const { clientId } = route.useParams();
  const me = useQuery(authQueries.me());
  const canChange = me.data?.role === 'client_admin' || me.data?.role === 'platform_admin';
  const settings = useQuery(settingsQueries.detail(clientId));
  const timezone = timezoneOf(settings.data);
  const subscriptions = useQuery(webhookQueries.subscriptions(clientId));
  const [problem, setProblem] = useState<string | null>(null);
  const tableColumns = useMemo(() => columns(clientId, timezone, canChange, setProblem), [clientId, timezone, canChange]);

  return (
    <>
      <PageHeader
        title="Webhooks"
        description={`Your own systems (a CRM, Zapier, your backend) hear about calls, bookings and messages as signed HTTPS requests in the Standard Webhooks format. Times in ${timezone}.`}
        actions={canChange ? <SubscriptionDialog clientId={clientId} /> : null}
      />
      <Problem text={problem} />
      <QueryState
        query={subscriptions}
        loadingLabel="Loading webhooks…"
        isEmpty={(data) => data.items.length === 0}
        empty={<Empty title="No webhooks yet">{canChange ? 'Add one to send events to your own systems.' : 'An admin of your account can add one.'}</Empty>}
      >
        {(data) => <DataTable caption="Webhooks" columns={tableColumns} data={data.items} rowKey={(s) => s.id} />}
      </QueryState>
    </>
  );
}
