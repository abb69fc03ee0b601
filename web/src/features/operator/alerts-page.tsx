import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { api } from '../../lib/api.ts';
import { formatCountOf } from '../../lib/format.ts';
import { Badge } from '../../ui/badge.tsx';
import { DataTable, type TableFeatureSet } from '../../ui/data-table.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { operatorQueries, type Alert, type FailedJob } from './operator.queries.ts';

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '–');

function AlertActions({ alert }: { alert: Alert }) {
  const queryClient = useQueryClient();
  const done = () => void queryClient.invalidateQueries({ queryKey: ['admin', 'alerts'] });
  const path = { clientId: alert.client_id, alertId: alert.id };
  const acknowledge = useMutation({ mutationFn: () => api.post('/api/admin/clients/{clientId}/alerts/{alertId}/acknowledge', {}, { path }), onSuccess: done });
  const resolve = useMutation({ mutationFn: () => api.post('/api/admin/clients/{clientId}/alerts/{alertId}/resolve', {}, { path }), onSuccess: done });
  const label = `${alert.label} for ${alert.client_id}`;
  return (
    <div className="row-actions">
      {alert.state === 'open' ? (
        <button type="button" className="button" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate()} aria-label={`Acknowledge: ${label}`}>
          Acknowledge
        </button>
      ) : null}
      <button type="button" className="button" disabled={resolve.isPending} onClick={() => resolve.mutate()} aria-label={`Resolve: ${label}`}>
        Resolve
      </button>
    </div>
  );
}

const alertHelper = createColumnHelper<TableFeatureSet, Alert>();
const alertColumns = alertHelper.columns([
  alertHelper.accessor('client_id', {
    header: 'Client',
    cell: (info) => (
      <Link to="/operator/alerts" search={{ client: info.getValue() }} className="row-link">
        {info.getValue()}
      </Link>
    ),
  }),
  alertHelper.accessor('label', {
    header: 'Alert',
    cell: (info) => {
      const alert = info.row.original;
      return (
        <>
          <Badge tone={alert.severity === 'critical' ? 'bad' : 'warn'}>{alert.severity === 'critical' ? 'Critical' : 'Warning'}</Badge> {info.getValue()}
          {alert.state === 'acknowledged' ? (
            <>
              <br />
              <span className="muted small">Acknowledged {when(alert.acknowledged_at)}</span>
            </>
          ) : null}
        </>
      );
    },
  }),
  alertHelper.accessor('summary', { header: 'What was seen' }),
  alertHelper.accessor('action', { header: 'What to do' }),
  alertHelper.accessor('opened_at', { header: 'Since', cell: (info) => when(info.getValue()) }),
  alertHelper.display({ id: 'actions', header: 'Actions', cell: (info) => <AlertActions alert={info.row.original} /> }),
]);

function History({ clientId }: { clientId: string }) {
  const history = useQuery(operatorQueries.clientAlerts(clientId));
  return (
    <section aria-labelledby="history-title">
      <div className="section-head">
        <h2 id="history-title">History of {clientId}</h2>
      </div>
      <QueryState query={history} loadingLabel="Loading history…" isEmpty={(d) => d.alerts.length === 0} empty={<Empty title="No alerts yet">This client has never had an alert.</Empty>}>
        {(data) => (
          <ul className="history">
            {data.alerts.map((alert) => (
              <li key={alert.id}>
                <Badge tone={alert.state === 'resolved' ? 'good' : alert.severity === 'critical' ? 'bad' : 'warn'}>{alert.state === 'resolved' ? 'Resolved' : alert.state === 'acknowledged' ? 'Acknowledged' : 'Open'}</Badge>{' '}
                <strong>{alert.label}</strong> {when(alert.opened_at)}
                {alert.resolved_at ? ` → ${when(alert.resolved_at)}${alert.resolved_by === 'detector' ? ' (cleared)' : ' (by an operator)'}` : ''}
                <br />
                <span className="muted small">{alert.summary}</span>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </section>
  );
}

const jobHelper = createColumnHelper<TableFeatureSet, FailedJob>();
function failedJobColumns(retry: (id: string) => void, retrying: boolean) {
  return jobHelper.columns([
    jobHelper.accessor('queue', {
      header: 'Job',
      cell: (info) => (
        <>
          {info.getValue()}
          <br />
          <span className="muted small">
            {Object.entries(info.row.original.subject)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}
          </span>
        </>
      ),
    }),
    jobHelper.accessor('client_id', { header: 'Client' }),
    jobHelper.accessor('attempts', { header: 'Attempts' }),
    jobHelper.accessor('failed_at', { header: 'Failed', cell: (info) => when(info.getValue()) }),
    jobHelper.accessor('last_error', { header: 'Last error', cell: (info) => <code className="error-text">{info.getValue()}</code> }),
    jobHelper.display({
      id: 'actions',
      header: 'Actions',
      cell: (info) => {
        const job = info.row.original;
        return (
          <button type="button" className="button" disabled={retrying} onClick={() => retry(job.id)} aria-label={`Retry ${job.queue} of ${job.client_id}`}>
            Retry
          </button>
        );
      },
    }),
  ]);
}

function FailedJobs() {
  const queryClient = useQueryClient();
  const jobs = useQuery(operatorQueries.failedJobs());
  const retry = useMutation({
    mutationFn: (body: { ids: string[] } | { all: true }) => api.post('/api/admin/jobs/failed/retry', body),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['admin', 'jobs'] }),
  });
  const { mutate, isPending } = retry;
  const jobColumns = useMemo(() => failedJobColumns((id) => mutate({ ids: [id] }), isPending), [mutate, isPending]);
  return (
    <section aria-labelledby="failed-title">
      <div className="section-head">
        <h2 id="failed-title">Failed jobs</h2>
        {jobs.data && jobs.data.jobs.length > 1 ? (
          <button type="button" className="button" disabled={retry.isPending} onClick={() => retry.mutate({ all: true })}>
            Retry all
          </button>
        ) : null}
      </div>
      <p className="muted">Jobs that used up their retries. Fix the cause, then retry: a replay never repeats what already happened (a text already sent is not sent again).</p>
      <QueryState query={jobs} loadingLabel="Loading failed jobs…" isEmpty={(d) => d.jobs.length === 0} empty={<Empty title="No failed jobs">Every job finished or is still being retried.</Empty>}>
        {(data) => <DataTable caption="Failed jobs" columns={jobColumns} data={data.jobs} rowKey={(job) => job.id} />}
      </QueryState>
    </section>
  );
}

export function AlertsPage({ client }: { client?: string | undefined }) {
  const alerts = useQuery(operatorQueries.alerts());
  const open = alerts.data?.alerts ?? [];
  const critical = open.filter((a) => a.severity === 'critical').length;
  return (
    <>
      <PageHeader
        title="Alerts"
        description={alerts.data ? (open.length === 0 ? 'No open alerts: every detector is quiet.' : `${formatCountOf(open.length, 'open alert')}${critical > 0 ? `, ${critical} critical` : ''}.`) : 'Health alerts of every client.'}
      />
      <QueryState query={alerts} loadingLabel="Loading alerts…" isEmpty={(d) => d.alerts.length === 0} empty={<Empty title="No open alerts">The detectors see nothing wrong with any client.</Empty>}>
        {(data) => <DataTable caption="Open alerts" columns={alertColumns} data={data.alerts} rowKey={(alert) => alert.id} />}
      </QueryState>
      {client ? <History clientId={client} /> : null}
      <FailedJobs />
    </>
  );
}
