import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { api } from '../../lib/api.ts';
import { formatCountOf } from '../../lib/format.ts';
import { Badge } from '../../ui/badge.tsx';
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

function AlertsTable({ alerts }: { alerts: Alert[] }) {
  return (
    <div className="table-scroll">
      <table className="table">
        <caption className="visually-hidden">Open alerts</caption>
        <thead>
          <tr>
            <th scope="col">Client</th>
            <th scope="col">Alert</th>
            <th scope="col">What was seen</th>
            <th scope="col">What to do</th>
            <th scope="col">Since</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.id}>
              <td data-label="Client">
<div className="cell">
                <Link to="/operator/alerts" search={{ client: alert.client_id }} className="row-link">
                  {alert.client_id}
                </Link>
              </div>
</td>
              <td data-label="Alert">
<div className="cell">
                <Badge tone={alert.severity === 'critical' ? 'bad' : 'warn'}>{alert.severity === 'critical' ? 'Critical' : 'Warning'}</Badge> {alert.label}
                {alert.state === 'acknowledged' ? (
                  <>
                    <br />
                    <span className="muted small">Acknowledged {when(alert.acknowledged_at)}</span>
                  </>
                ) : null}
              </div>
</td>
              <td data-label="What was seen">
<div className="cell">{alert.summary}</div>
</td>
              <td data-label="What to do">
<div className="cell">{alert.action}</div>
</td>
              <td data-label="Since">
<div className="cell">{when(alert.opened_at)}</div>
</td>
              <td data-label="Actions">
<div className="cell">
                <AlertActions alert={alert} />
              </div>
</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function History({ clientId }: { clientId: string }) {
  const history = useQuery(operatorQueries.clientAlerts(clientId));
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History of {clientId}</h2>
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

function FailedJobs() {
  const queryClient = useQueryClient();
  const jobs = useQuery(operatorQueries.failedJobs());
  const retry = useMutation({
    mutationFn: (body: { ids: string[] } | { all: true }) => api.post('/api/admin/jobs/failed/retry', body),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['admin', 'jobs'] }),
  });
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
        {(data) => (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Failed jobs</caption>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Client</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Last error</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {data.jobs.map((job: FailedJob) => (
                  <tr key={job.id}>
                    <td data-label="Job">
<div className="cell">
                      {job.queue}
                      <br />
                      <span className="muted small">{Object.entries(job.subject).map(([k, v]) => `${k} ${v}`).join(', ')}</span>
                    </div>
</td>
                    <td data-label="Client">
<div className="cell">{job.client_id}</div>
</td>
                    <td data-label="Attempts">
<div className="cell">{job.attempts}</div>
</td>
                    <td data-label="Failed">
<div className="cell">{when(job.failed_at)}</div>
</td>
                    <td data-label="Last error">
<div className="cell">
                      <code className="error-text">{job.last_error}</code>
                    </div>
</td>
                    <td data-label="Actions">
<div className="cell">
                      <button type="button" className="button" disabled={retry.isPending} onClick={() => retry.mutate({ ids: [job.id] })} aria-label={`Retry ${job.queue} of ${job.client_id}`}>
                        Retry
                      </button>
                    </div>
</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
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
        {(data) => <AlertsTable alerts={data.alerts} />}
      </QueryState>
      {client ? <History clientId={client} /> : null}
      <FailedJobs />
    </>
  );
}
