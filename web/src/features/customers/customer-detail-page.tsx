import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { formatCountOf, formatDateTime, formatDuration, formatPhone, humanize } from '../../lib/format.ts';
import { Badge, statusTone } from '../../ui/badge.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { CallLink } from '../calls/call-link.tsx';
import { OUTCOME_LABELS } from '../calls/calls.search.ts';
import { STATUS_HELP } from '../messages/messages-page.tsx';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { customerQueries, type CustomerDetail } from './customers.queries.ts';

const route = getRouteApi('/app/c/$clientId/customers/$customerId');

export function CustomerDetailPage() {
  const { clientId, customerId } = route.useParams();
  const settings = useQuery(settingsQueries.detail(clientId));
  const customer = useQuery(customerQueries.detail(clientId, customerId));
  const timezone = timezoneOf(settings.data);
  return (
    <>
      <p className="back-link">
        <Link to="/c/$clientId/customers" params={{ clientId }}>
          ← All customers
        </Link>
      </p>
      <QueryState query={customer} loadingLabel="Loading the customer…">
        {(data) => <CustomerBody clientId={clientId} customer={data} timezone={timezone} />}
      </QueryState>
    </>
  );
}

function CustomerBody({ clientId, customer, timezone }: { clientId: string; customer: CustomerDetail; timezone: string }) {
  return (
    <>
      <PageHeader
        title={customer.name ? `${customer.name}, ${formatPhone(customer.phone)}` : formatPhone(customer.phone)}
        description={`Last call ${formatDateTime(customer.last_call_at, timezone)} · ${formatCountOf(customer.call_count, 'call')} · ${formatCountOf(customer.appointment_count, 'appointment')} · ${formatCountOf(customer.message_count, 'message')}`}
        actions={
          customer.opted_out_at ? (
            <Badge tone="warn" title={`Since ${formatDateTime(customer.opted_out_at, timezone)}`}>
              Opted out of texts
            </Badge>
          ) : (
            <Badge tone="good">May be texted</Badge>
          )
        }
      />
      {customer.email ? <p className="muted">Email: {customer.email}</p> : null}

      <section className="card" aria-labelledby="customer-calls">
        <h2 id="customer-calls">Calls</h2>
        {customer.calls.length === 0 ? (
          <Empty title="No calls" />
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Calls with this customer</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Summary</th>
                </tr>
              </thead>
              <tbody>
                {customer.calls.map((call) => (
                  <tr key={call.call_id}>
                    <td className="nowrap">
                      <Link to="/c/$clientId/calls/$callId" params={{ clientId, callId: call.call_id }}>
                        {formatDateTime(call.started_at ?? call.created_at, timezone)}
                      </Link>
                    </td>
                    <td>{formatDuration(call.duration_ms)}</td>
                    <td>
                      <Badge tone={call.outcome === 'booked' ? 'good' : 'neutral'}>{OUTCOME_LABELS[call.outcome]}</Badge>
                    </td>
                    <td>
                      <span className="clamp">{call.summary ?? '–'}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="customer-appointments">
        <h2 id="customer-appointments">Appointments</h2>
        {customer.appointments.length === 0 ? (
          <Empty title="No appointments" />
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">This customer&apos;s appointments</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Status</th>
                  <th scope="col">Booked on</th>
                </tr>
              </thead>
              <tbody>
                {customer.appointments.map((appointment) => (
                  <tr key={appointment.id}>
                    <td className="nowrap">{formatDateTime(appointment.starts_at, timezone)}</td>
                    <td>{appointment.reason ?? '–'}</td>
                    <td>
                      <Badge tone={statusTone(appointment.status)}>{appointment.status === 'booked' ? 'Booked' : 'Cancelled'}</Badge>
                    </td>
                    <td>
                      <CallLink clientId={clientId} callId={appointment.call_id} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="customer-messages">
        <h2 id="customer-messages">Messages</h2>
        {customer.messages.length === 0 ? (
          <Empty title="No messages" />
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Messages to this customer</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Message</th>
                </tr>
              </thead>
              <tbody>
                {customer.messages.map((message) => (
                  <tr key={message.id}>
                    <td className="nowrap">{formatDateTime(message.created_at, timezone)}</td>
                    <td>{`${message.channel === 'sms' ? 'Text' : 'Email'} · ${humanize(message.kind).toLowerCase()}`}</td>
                    <td>
                      <Badge tone={statusTone(message.status)}>{humanize(message.status)}</Badge>
                      <span className="cell-note muted small">
                        {message.error_message ?? STATUS_HELP[message.status as keyof typeof STATUS_HELP] ?? ''}
                      </span>
                    </td>
                    <td>
                      <span className="clamp">{message.body}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
