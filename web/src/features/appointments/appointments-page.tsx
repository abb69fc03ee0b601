import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { addDays, todayIn } from '../../lib/dates.ts';
import { formatDateTime, formatPhone } from '../../lib/format.ts';
import { Badge, statusTone } from '../../ui/badge.tsx';
import type { TableFeatureSet } from '../../ui/data-table.tsx';
import { PagedTable } from '../../ui/paged-table.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { authQueries } from '../auth/auth.queries.ts';
import { CallLink } from '../calls/call-link.tsx';
import { settingsQueries, timezoneOf } from '../settings/settings.queries.ts';
import { CancelAppointment, RescheduleAppointment } from './appointment-actions.tsx';
import { appointmentQueries, type Appointment } from './appointments.queries.ts';
import type { APPOINTMENT_STATUSES } from './appointments.search.ts';

const route = getRouteApi('/app/c/$clientId/appointments');
const helper = createColumnHelper<TableFeatureSet, Appointment>();
const PAGE_SIZE = 25;

/** Only what is still ahead can change: a booked appointment that has not started. */
const changeable = (appointment: Appointment, now: number) => appointment.status === 'booked' && Date.parse(appointment.starts_at) > now;

function columns(clientId: string, timezone: string, canChange: boolean) {
  const actions = helper.display({
    id: 'actions',
    header: () => <span className="visually-hidden">Actions</span>,
    cell: (info) =>
      changeable(info.row.original, Date.now()) ? (
        <div className="row-actions">
          <RescheduleAppointment clientId={clientId} appointment={info.row.original} timezone={timezone} />
          <CancelAppointment clientId={clientId} appointment={info.row.original} timezone={timezone} />
        </div>
      ) : null,
  });
  return helper.columns([
    helper.accessor('starts_at', { header: 'When', cell: (info) => formatDateTime(info.getValue(), timezone) }),
    helper.accessor('customer_name', {
      header: 'Customer',
      cell: (info) => (
        <>
          {info.getValue() ?? 'Unknown name'}
          <br />
          <span className="muted small">{formatPhone(info.row.original.customer_phone)}</span>
        </>
      ),
    }),
    helper.accessor('reason', { header: 'Reason', cell: (info) => info.getValue() ?? '–' }),
    helper.accessor('status', { header: 'Status', cell: (info) => <Badge tone={statusTone(info.getValue())}>{info.getValue() === 'booked' ? 'Booked' : 'Cancelled'}</Badge> }),
    helper.accessor('call_id', {
      header: 'Booked on',
      cell: (info) => <CallLink clientId={clientId} callId={info.getValue()} />,
    }),
    ...(canChange ? [actions] : []),
  ]);
}

export function AppointmentsPage() {
  const { clientId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const settings = useQuery(settingsQueries.detail(clientId));
  const me = useQuery(authQueries.me());
  // Viewers read; a client's admins and the operator cancel and reschedule (the API checks it too).
  const canChange = me.data !== undefined && me.data.role !== 'client_viewer';
  const timezone = timezoneOf(settings.data);
  const when = search.when ?? 'upcoming';
  const today = todayIn(timezone);
  // Upcoming: from today on, soonest first; past: up to yesterday, latest first.
  const query =
    when === 'upcoming'
      ? { from: today, order: 'asc' as const, status: search.status, cursor: search.cursor, limit: PAGE_SIZE }
      : { to: addDays(today, -1), order: 'desc' as const, status: search.status, cursor: search.cursor, limit: PAGE_SIZE };
  const appointments = useQuery({ ...appointmentQueries.list(clientId, query), enabled: !settings.isPending });
  const tableColumns = useMemo(() => columns(clientId, timezone, canChange), [clientId, timezone, canChange]);

  return (
    <>
      <PageHeader title="Appointments" description={`Booked by your receptionist or added to your calendar through it. Times in ${timezone}.`} />
      <div className="filters">
        <div className="segmented" role="group" aria-label="Which appointments">
          {(['upcoming', 'past'] as const).map((value) => (
            <button key={value} type="button" aria-pressed={when === value} className={when === value ? 'active' : undefined} onClick={() => void navigate({ search: { when: value, status: search.status } })}>
              {value === 'upcoming' ? 'Upcoming' : 'Past'}
            </button>
          ))}
        </div>
        <label className="field">
          <span>Status</span>
          <select value={search.status ?? ''} onChange={(e) => void navigate({ search: { when: search.when, status: (e.target.value || undefined) as (typeof APPOINTMENT_STATUSES)[number] | undefined } })}>
            <option value="">Any</option>
            <option value="booked">Booked</option>
            <option value="cancelled">Cancelled</option>
          </select>
        </label>
      </div>
      <QueryState
        query={appointments}
        loadingLabel="Loading appointments…"
        isEmpty={(page) => page.data.length === 0}
        empty={<Empty title={when === 'upcoming' ? 'No upcoming appointments' : 'No past appointments'}>Appointments your receptionist books show up here.</Empty>}
      >
        {(page) => (
          <PagedTable
            caption="Appointments"
            columns={tableColumns}
            rows={page.data}
            rowKey={(a) => a.id}
            nextCursor={page.next_cursor}
            cursor={search.cursor}
            onCursor={(cursor) => void navigate({ search: { ...search, cursor } })}
          />
        )}
      </QueryState>
    </>
  );
}
