import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { formatCountOf, formatDateTime, formatDuration, formatPhone, humanize } from '../../lib/format.ts';
import { Badge, statusTone } from '../../ui/badge.tsx';
import { DataTable, type TableFeatureSet } from '../../ui/data-table.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { CallLink } from '../calls/call-link.tsx';
import { OUTCOME_LABELS } from '../calls/calls.search.ts';
import { STATUS_HELP } from '../messages/messages-page.tsx';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { customerQueries, type CustomerDetail } from './customers.queries.ts';

const route = getRouteApi('/app/c/$clientId/customers/$customerId');

type CustomerCall = CustomerDetail['calls'][number];
type CustomerAppointment = CustomerDetail['appointments'][number];
type CustomerMessage = CustomerDetail['messages'][number];
const callHelper = createColumnHelper<TableFeatureSet, CustomerCall>();
const appointmentHelper = createColumnHelper<TableFeatureSet, CustomerAppointment>();
const messageHelper = createColumnHelper<TableFeatureSet, CustomerMessage>();

function callTableColumns(clientId: string, timezone: string) {
  return callHelper.columns([
    callHelper.accessor((call) => call.started_at ?? call.created_at, {
      id: 'when',
      header: 'When',
      cell: (info) => (
        <Link to="/c/$clientId/calls/$callId" params={{ clientId, callId: info.row.original.call_id }} className="nowrap">
          {formatDateTime(info.getValue(), timezone)}
        </Link>
      ),
    }),
    callHelper.accessor('duration_ms', { header: 'Duration', cell: (info) => formatDuration(info.getValue()) }),
    callHelper.accessor('outcome', { header: 'Outcome', cell: (info) => <Badge tone={info.getValue() === 'booked' ? 'good' : 'neutral'}>{OUTCOME_LABELS[info.getValue()]}</Badge> }),
    callHelper.accessor('summary', { header: 'Summary', cell: (info) => <span className="clamp">{info.getValue() ?? '–'}</span> }),
  ]);
}

function appointmentTableColumns(clientId: string, timezone: string) {
  return appointmentHelper.columns([
    appointmentHelper.accessor('starts_at', { header: 'When', cell: (info) => <span className="nowrap">{formatDateTime(info.getValue(), timezone)}</span> }),
    appointmentHelper.accessor('reason', { header: 'Reason', cell: (info) => info.getValue() ?? '–' }),
    appointmentHelper.accessor('status', { header: 'Status', cell: (info) => <Badge tone={statusTone(info.getValue())}>{info.getValue() === 'booked' ? 'Booked' : 'Cancelled'}</Badge> }),
    appointmentHelper.accessor('call_id', { header: 'Booked on', cell: (info) => <CallLink clientId={clientId} callId={info.getValue()} /> }),
  ]);
}

function messageTableColumns(timezone: string) {
  return messageHelper.columns([
    messageHelper.accessor('created_at', { header: 'When', cell: (info) => <span className="nowrap">{formatDateTime(info.getValue(), timezone)}</span> }),
    messageHelper.accessor((message) => `${message.channel === 'sms' ? 'Text' : 'Email'} · ${humanize(message.kind).toLowerCase()}`, { id: 'type', header: 'Type' }),
    messageHelper.accessor('status', {
      header: 'Status',
      cell: (info) => (
        <>
          <Badge tone={statusTone(info.getValue())}>{humanize(info.getValue())}</Badge>
          <span className="cell-note muted small">{info.row.original.error_message ?? STATUS_HELP[info.getValue() as keyof typeof STATUS_HELP] ?? ''}</span>
        </>
      ),
    }),
    messageHelper.accessor('body', { header: 'Message', cell: (info) => <span className="clamp">{info.getValue()}</span> }),
  ]);
}

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
  const callColumns = useMemo(() => callTableColumns(clientId, timezone), [clientId, timezone]);
  const appointmentColumns = useMemo(() => appointmentTableColumns(clientId, timezone), [clientId, timezone]);
  const messageColumns = useMemo(() => messageTableColumns(timezone), [timezone]);
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
        {customer.calls.length === 0 ? <Empty title="No calls" /> : <DataTable caption="Calls with this customer" columns={callColumns} data={customer.calls} rowKey={(call) => call.call_id} />}
      </section>

      <section className="card" aria-labelledby="customer-appointments">
        <h2 id="customer-appointments">Appointments</h2>
        {customer.appointments.length === 0 ? (
          <Empty title="No appointments" />
        ) : (
          <DataTable caption="This customer's appointments" columns={appointmentColumns} data={customer.appointments} rowKey={(appointment) => appointment.id} />
        )}
      </section>

      <section className="card" aria-labelledby="customer-messages">
        <h2 id="customer-messages">Messages</h2>
        {customer.messages.length === 0 ? (
          <Empty title="No messages" />
        ) : (
          <DataTable caption="Messages to this customer" columns={messageColumns} data={customer.messages} rowKey={(message) => message.id} />
        )}
      </section>
    </>
  );
}
