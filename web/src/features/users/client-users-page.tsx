import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '../../lib/api.ts';
import { formatDateTime } from '../../lib/format.ts';
import { Badge } from '../../ui/badge.tsx';
import { Empty, PageHeader, QueryState } from '../../ui/states.tsx';
import { formText } from '../auth/auth-card.tsx';
import { authQueries } from '../auth/auth.queries.ts';
import { ROLE_LABELS } from '../operator/operator.search.ts';
import { clientUserQueries, type ClientUser } from './users.queries.ts';

const route = getRouteApi('/app/c/$clientId/users');
const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const CLIENT_ROLES = ['client_viewer', 'client_admin'] as const;

/** A client's users for its admins (and the operator): who can sign in, invitations, access. */
export function ClientUsersPage() {
  const { clientId } = route.useParams();
  const users = useQuery(clientUserQueries.list(clientId));
  return (
    <>
      <PageHeader title="Users" description="Who can sign in to this dashboard. Viewers read; admins also change settings and manage users." />
      <InviteForm clientId={clientId} />
      <QueryState query={users} loadingLabel="Loading users…" isEmpty={(data) => data.users.length === 0} empty={<Empty title="No users yet">Invite someone above.</Empty>}>
        {(data) => <UsersTable clientId={clientId} users={data.users} />}
      </QueryState>
    </>
  );
}

function InviteForm({ clientId }: { clientId: string }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<{ ok: boolean; message: string } | null>(null);
  const invite = useMutation({
    mutationFn: (body: { email: string; role: (typeof CLIENT_ROLES)[number] }) => api.post('/api/clients/{clientId}/invites', body, { path: { clientId } }),
    onSuccess: (answer) => {
      setStatus({ ok: true, message: `Invitation sent to ${answer?.invite.email ?? 'them'}. The link works for 7 days.` });
      void queryClient.invalidateQueries({ queryKey: ['clients', clientId, 'users'] });
    },
    onError: (caught) => setStatus({ ok: false, message: isApiError(caught) && caught.status < 500 ? caught.message : 'Sending the invitation failed. Please try again.' }),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const role = formText(form, 'role') === 'client_admin' ? 'client_admin' : 'client_viewer';
    setStatus(null);
    invite.mutate({ email: formText(form, 'email'), role }, { onSuccess: () => element.reset() });
  };
  return (
    <section className="card" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <form className="filters" onSubmit={submit}>
        <div className="field">
          <label htmlFor="invite-email">Email</label>
          <input id="invite-email" name="email" type="email" autoComplete="off" required />
        </div>
        <div className="field">
          <label htmlFor="invite-role">Role</label>
          <select id="invite-role" name="role" defaultValue="client_viewer">
            {CLIENT_ROLES.map((role) => (
              <option key={role} value={role}>
                {ROLE_LABELS[role]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button-primary" disabled={invite.isPending}>
          {invite.isPending ? 'Sending…' : 'Send invitation'}
        </button>
      </form>
      {status ? (
        <p className={status.ok ? 'notice' : 'form-error'} role={status.ok ? 'status' : 'alert'}>
          {status.message}
        </p>
      ) : null}
    </section>
  );
}

function UsersTable({ clientId, users }: { clientId: string; users: ClientUser[] }) {
  const me = useQuery(authQueries.me());
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: ({ userId, disabled }: { userId: string; disabled: boolean }) =>
      api.patch('/api/clients/{clientId}/users/{userId}', { disabled }, { path: { clientId, userId } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['clients', clientId, 'users'] }),
    onError: (caught) => setProblem(isApiError(caught) && caught.status < 500 ? caught.message : 'The change failed. Please try again.'),
  });
  return (
    <div className="card">
      {problem ? (
        <p className="form-error" role="alert">
          {problem}
        </p>
      ) : null}
      <div className="table-scroll">
        <table className="table" aria-label="Users">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Access</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr key={user.id}>
                <td>{user.email}</td>
                <td>{ROLE_LABELS[user.role]}</td>
                <td>{user.disabled ? <Badge tone="bad">Disabled</Badge> : <Badge tone="good">Active</Badge>}</td>
                <td>{user.last_login_at ? formatDateTime(user.last_login_at, timezone) : 'Never'}</td>
                <td>
                  {user.id === me.data?.id ? (
                    <span className="muted small">You</span>
                  ) : (
                    <button
                      type="button"
                      className="button button-small"
                      disabled={change.isPending}
                      aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.email}`}
                      onClick={() => change.mutate({ userId: user.id, disabled: !user.disabled })}
                    >
                      {user.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
