/**
 * Cancel and reschedule for a client's admins. The server decides (business hours, holidays,
 * conflicts, the client's calendar); the dialogs show its answer and, on success, refresh every
 * list that shows the appointment.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AlertDialog, Dialog } from 'radix-ui';
import { useId, useState, type FormEvent } from 'react';
import { api } from '../../lib/api.ts';
import { todayIn } from '../../lib/dates.ts';
import { formatDateTime } from '../../lib/format.ts';
import { appointmentQueries, type Appointment } from './appointments.queries.ts';

/** "10:30 AM" in `timeZone`. */
function formatTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', minute: '2-digit' }).format(new Date(iso));
}

function useRefreshAfterChange(clientId: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all(
      (['appointments', 'customers', 'calls'] as const).map((list) => queryClient.invalidateQueries({ queryKey: ['clients', clientId, list] })),
    );
}

const who = (appointment: Appointment) => appointment.customer_name ?? 'the caller';

export function CancelAppointment({ clientId, appointment, timezone }: { clientId: string; appointment: Appointment; timezone: string }) {
  const [open, setOpen] = useState(false);
  const refresh = useRefreshAfterChange(clientId);
  const cancel = useMutation({
    mutationFn: () => api.post('/api/clients/{clientId}/appointments/{appointmentId}/cancel', {}, { path: { clientId, appointmentId: appointment.id } }),
    onSuccess: async () => {
      await refresh();
      setOpen(false);
    },
  });
  const when = formatDateTime(appointment.starts_at, timezone);
  return (
    <AlertDialog.Root
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) cancel.reset();
      }}
    >
      <AlertDialog.Trigger asChild>
        <button type="button" className="button button-small" aria-label={`Cancel the appointment of ${who(appointment)} on ${when}`}>
          Cancel
        </button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="dialog-overlay" />
        <AlertDialog.Content className="dialog dialog-narrow">
          <AlertDialog.Title>Cancel this appointment?</AlertDialog.Title>
          <AlertDialog.Description>
            {who(appointment)}, {when} ({timezone}). It is removed from your calendar. The caller is not notified automatically.
          </AlertDialog.Description>
          {cancel.error ? (
            <p role="alert" className="form-error">
              {cancel.error.message}
            </p>
          ) : null}
          <div className="dialog-actions">
            <AlertDialog.Cancel asChild>
              <button type="button" className="button button-quiet">
                Keep it
              </button>
            </AlertDialog.Cancel>
            <AlertDialog.Action asChild>
              <button
                type="button"
                className="button button-danger"
                disabled={cancel.isPending}
                onClick={(event) => {
                  // Stays open until the server answers: a failure is shown here, not lost.
                  event.preventDefault();
                  cancel.mutate();
                }}
              >
                {cancel.isPending ? 'Cancelling…' : 'Cancel appointment'}
              </button>
            </AlertDialog.Action>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}

function FreeSlots({ clientId, date, timezone, current, name }: { clientId: string; date: string; timezone: string; current: string; name: string }) {
  const slots = useQuery(appointmentQueries.freeSlots(clientId, date));
  if (slots.isPending) return <p role="status" className="muted">Finding free times…</p>;
  if (slots.error) return <p role="alert" className="form-error">{slots.error.message}</p>;
  if (slots.data.slots.length === 0) return <p className="muted">No free times that day (closed, a holiday, fully booked, or beyond the booking window).</p>;
  return (
    <fieldset className="slot-grid">
      <legend>Free times on {date}</legend>
      {slots.data.slots.map((slot) => (
        <label key={slot.start} className="slot">
          <input type="radio" name={name} value={slot.start} required defaultChecked={false} disabled={Date.parse(slot.start) === Date.parse(current)} />
          <span>{formatTime(slot.start, timezone)}</span>
        </label>
      ))}
    </fieldset>
  );
}

export function RescheduleAppointment({ clientId, appointment, timezone }: { clientId: string; appointment: Appointment; timezone: string }) {
  const [open, setOpen] = useState(false);
  const [date, setDate] = useState(() => todayIn(timezone, new Date(appointment.starts_at)));
  const refresh = useRefreshAfterChange(clientId);
  const dateId = useId();
  const slotName = useId();
  const reschedule = useMutation({
    mutationFn: (start: string) =>
      api.post('/api/clients/{clientId}/appointments/{appointmentId}/reschedule', { start }, { path: { clientId, appointmentId: appointment.id } }),
    onSuccess: async () => {
      await refresh();
      setOpen(false);
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const start = new FormData(event.currentTarget).get(slotName);
    if (typeof start === 'string' && start !== '') reschedule.mutate(start);
  };
  const when = formatDateTime(appointment.starts_at, timezone);
  return (
    <Dialog.Root
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) {
          reschedule.reset();
          setDate(todayIn(timezone, new Date(appointment.starts_at)));
        }
      }}
    >
      <Dialog.Trigger asChild>
        <button type="button" className="button button-small" aria-label={`Reschedule the appointment of ${who(appointment)} on ${when}`}>
          Reschedule
        </button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog dialog-narrow">
          <Dialog.Title>Reschedule</Dialog.Title>
          <Dialog.Description>
            {who(appointment)}, now {when}. Pick a day and a free time ({timezone}).
          </Dialog.Description>
          <form onSubmit={submit} className="form-stack" aria-label="Reschedule the appointment">
            <label className="field" htmlFor={dateId}>
              <span>Day</span>
              <input id={dateId} type="date" value={date} min={todayIn(timezone)} required onChange={(e) => e.target.value && setDate(e.target.value)} />
            </label>
            <FreeSlots key={date} clientId={clientId} date={date} timezone={timezone} current={appointment.starts_at} name={slotName} />
            {reschedule.error ? (
              <p role="alert" className="form-error">
                {reschedule.error.message}
              </p>
            ) : null}
            <div className="dialog-actions">
              <Dialog.Close asChild>
                <button type="button" className="button button-quiet">
                  Close
                </button>
              </Dialog.Close>
              <button type="submit" className="button button-primary" disabled={reschedule.isPending}>
                {reschedule.isPending ? 'Moving…' : 'Move appointment'}
              </button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
