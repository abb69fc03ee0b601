/**
 * The dialogs that change a subscription (Radix): create or edit (URL, description, event types
 * from the catalogue), rotate the secret, delete. A secret is shown once, in the dialog that made
 * it, and lives only in that dialog's state: closing it forgets the secret.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AlertDialog, Dialog } from 'radix-ui';
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { api, isApiError } from '../../lib/api.ts';
import { formText } from '../auth/auth-card.tsx';
import { webhookQueries, type EventType, type Subscription, type SubscriptionWithSecret } from './webhooks.queries.ts';

const problemOf = (caught: unknown) => (isApiError(caught) && caught.status < 500 ? caught.message : 'That did not work. Please try again.');

/** What went wrong with the last change, announced (or nothing). */
export function Problem({ text }: { text: string | null }) {
  return text ? (
    <p className="form-error" role="alert">
      {text}
    </p>
  ) : null;
}

/** The new secret, once, with a way to copy it. */
function SecretOnce({ secret }: { secret: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="notice" role="status">
      <p>
        <strong>Signing secret: copy it now.</strong> It is shown only this once; your system needs it to check each request&apos;s <code>webhook-signature</code>.
      </p>
      <div className="copy-row">
        <code aria-label="Signing secret">{secret}</code>
        <button
          type="button"
          className="button button-small"
          onClick={() => {
            void navigator.clipboard?.writeText(secret).then(() => setCopied(true));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

function DialogFrame({ title, description, children }: { title: string; description: string; children: ReactNode }) {
  const descriptionId = useId();
  return (
    <Dialog.Portal>
      <Dialog.Overlay className="dialog-overlay" />
      <Dialog.Content className="dialog" aria-describedby={descriptionId}>
        <Dialog.Title>{title}</Dialog.Title>
        <p id={descriptionId} className="muted">
          {description}
        </p>
        {children}
      </Dialog.Content>
    </Dialog.Portal>
  );
}

/** Create (no `subscription`) or edit one. */
export function SubscriptionDialog({ clientId, subscription }: { clientId: string; subscription?: Subscription }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [created, setCreated] = useState<SubscriptionWithSecret | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const eventTypes = useQuery({ ...webhookQueries.eventTypes(clientId), enabled: open });
  const save = useMutation({
    mutationFn: async (body: { url: string; description: string | null; event_types: EventType[] }) =>
      subscription
        ? { updated: await api.patch('/api/clients/{clientId}/webhook-subscriptions/{subscriptionId}', body, { path: { clientId, subscriptionId: subscription.id } }) }
        : { created: await api.post('/api/clients/{clientId}/webhook-subscriptions', body, { path: { clientId } }) },
    onSuccess: (answer) => {
      void queryClient.invalidateQueries({ queryKey: webhookQueries.all(clientId) });
      if ('created' in answer && answer.created) setCreated(answer.created);
      else setOpen(false);
    },
    onError: (caught) => setProblem(problemOf(caught)),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const types = form.getAll('event_types').filter((v): v is string => typeof v === 'string') as EventType[];
    if (types.length === 0) {
      setProblem('Pick at least one event.');
      return;
    }
    setProblem(null);
    save.mutate({ url: formText(form, 'url'), description: formText(form, 'description') || null, event_types: types });
  };
  const fieldId = useId();
  return (
    <Dialog.Root
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) {
          setCreated(null);
          setProblem(null);
          save.reset();
        }
      }}
    >
      <Dialog.Trigger asChild>
        {subscription ? (
          <button type="button" className="button button-small" aria-label={`Edit ${subscription.url}`}>
            Edit
          </button>
        ) : (
          <button type="button" className="button button-primary">
            Add webhook
          </button>
        )}
      </Dialog.Trigger>
      <DialogFrame
        title={subscription ? 'Edit webhook' : 'Add a webhook'}
        description="Each chosen event is POSTed to this HTTPS address as JSON, signed in the Standard Webhooks format, and retried for 24 hours until your system answers 2xx."
      >
        {created ? (
          <>
            <p>
              Added <strong>{created.url}</strong>.
            </p>
            <SecretOnce secret={created.secret} />
            <Dialog.Close asChild>
              <button type="button" className="button button-primary">
                Done
              </button>
            </Dialog.Close>
          </>
        ) : (
          <form onSubmit={submit} className="webhook-form" aria-label={subscription ? 'Edit webhook' : 'Add a webhook'}>
            <div className="field">
              <label htmlFor={`${fieldId}-url`}>Endpoint URL</label>
              <input id={`${fieldId}-url`} name="url" type="url" inputMode="url" required placeholder="https://" defaultValue={subscription?.url ?? ''} autoComplete="off" />
            </div>
            <div className="field">
              <label htmlFor={`${fieldId}-description`}>Description (optional)</label>
              <input id={`${fieldId}-description`} name="description" maxLength={500} defaultValue={subscription?.description ?? ''} autoComplete="off" />
            </div>
            <fieldset className="event-types">
              <legend>Events</legend>
              {eventTypes.isPending ? (
                <p className="muted">Loading events…</p>
              ) : eventTypes.data ? (
                eventTypes.data.items.map((item) => (
                  <label key={item.type} className="checkbox">
                    <input type="checkbox" name="event_types" value={item.type} defaultChecked={subscription?.event_types.includes(item.type) ?? false} />
                    <span>
                      <code>{item.type}</code>
                      {item.ordered ? <span className="muted small"> in order</span> : null}
                    </span>
                  </label>
                ))
              ) : (
                <p className="form-error" role="alert">
                  The list of events could not be loaded. Close and try again.
                </p>
              )}
            </fieldset>
            <Problem text={problem} />
            <div className="dialog-actions">
              <button type="submit" className="button button-primary" disabled={save.isPending || !eventTypes.data}>
                {save.isPending ? 'Saving…' : subscription ? 'Save changes' : 'Add webhook'}
              </button>
              <Dialog.Close asChild>
                <button type="button" className="button button-quiet">
                  Cancel
                </button>
              </Dialog.Close>
            </div>
          </form>
        )}
      </DialogFrame>
    </Dialog.Root>
  );
}

/** A new secret; the old one keeps signing (a second signature) for the hours chosen, so the client's system can switch without missing a delivery. */
export function RotateSecretDialog({ clientId, subscription }: { clientId: string; subscription: Subscription }) {
  const queryClient = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [hours, setHours] = useState(24);
  const hoursId = useId();
  const rotate = useMutation({
    mutationFn: () => api.post('/api/clients/{clientId}/webhook-subscriptions/{subscriptionId}/rotate-secret', { previous_valid_hours: hours }, { path: { clientId, subscriptionId: subscription.id } }),
    onSuccess: (answer) => {
      setSecret(answer.secret);
      void queryClient.invalidateQueries({ queryKey: webhookQueries.all(clientId) });
    },
    onError: (caught) => setProblem(problemOf(caught)),
  });
  return (
    <Dialog.Root
      onOpenChange={(next) => {
        if (!next) {
          setSecret(null);
          setProblem(null);
        }
      }}
    >
      <Dialog.Trigger asChild>
        <button type="button" className="button button-small" aria-label={`Rotate secret of ${subscription.url}`}>
          Rotate secret
        </button>
      </Dialog.Trigger>
      <DialogFrame title="Rotate the signing secret" description={`A new secret for ${subscription.url}. While the old one is still valid, each delivery carries both signatures.`}>
        {secret ? (
          <>
            <SecretOnce secret={secret} />
            <Dialog.Close asChild>
              <button type="button" className="button button-primary">
                Done
              </button>
            </Dialog.Close>
          </>
        ) : (
          <>
            <div className="field">
              <label htmlFor={hoursId}>Keep the old secret valid for</label>
              <select id={hoursId} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
                <option value={0}>No time: stop it now</option>
                <option value={1}>1 hour</option>
                <option value={24}>24 hours</option>
                <option value={72}>3 days</option>
                <option value={168}>7 days</option>
              </select>
            </div>
            <Problem text={problem} />
            <div className="dialog-actions">
              <button type="button" className="button button-primary" disabled={rotate.isPending} onClick={() => rotate.mutate()}>
                {rotate.isPending ? 'Rotating…' : 'Rotate secret'}
              </button>
              <Dialog.Close asChild>
                <button type="button" className="button button-quiet">
                  Cancel
                </button>
              </Dialog.Close>
            </div>
          </>
        )}
      </DialogFrame>
    </Dialog.Root>
  );
}

export function DeleteSubscriptionDialog({ clientId, subscription }: { clientId: string; subscription: Subscription }) {
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: () => api.delete('/api/clients/{clientId}/webhook-subscriptions/{subscriptionId}', { path: { clientId, subscriptionId: subscription.id } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: webhookQueries.all(clientId) }),
    onError: (caught) => setProblem(problemOf(caught)),
  });
  return (
    <AlertDialog.Root onOpenChange={() => setProblem(null)}>
      <AlertDialog.Trigger asChild>
        <button type="button" className="button button-small button-danger" aria-label={`Delete ${subscription.url}`}>
          Delete
        </button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="dialog-overlay" />
        <AlertDialog.Content className="dialog">
          <AlertDialog.Title>Delete this webhook?</AlertDialog.Title>
          <AlertDialog.Description className="muted">
            {subscription.url} stops receiving events at once, and deliveries still being retried end. This cannot be undone.
          </AlertDialog.Description>
          <Problem text={problem} />
          <div className="dialog-actions">
            <button
              type="button"
              className="button button-danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate()}
            >
              {remove.isPending ? 'Deleting…' : 'Delete webhook'}
            </button>
            <AlertDialog.Cancel asChild>
              <button type="button" className="button button-quiet">
                Cancel
              </button>
            </AlertDialog.Cancel>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
