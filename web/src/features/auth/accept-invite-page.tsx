import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { isApiError } from '../../lib/api.ts';
import { acceptInvite, postPublic } from '../../lib/session.ts';
import { Loading } from '../../ui/states.tsx';
import { ROLE_LABELS } from '../operator/operator.search.ts';
import { AuthCard, formText, TextField } from './auth-card.tsx';
import { authQueries } from './auth.queries.ts';
import { useHashToken } from './link-token.ts';
import { PASSWORD_MIN_LENGTH, passwordProblem } from './password-rules.ts';

interface Invite {
  email: string;
  role: 'platform_admin' | 'client_admin' | 'client_viewer';
  client_id: string | null;
  expires_at: string;
}

/** Opened from an invitation email: shows who is invited to what, and sets the password. */
export function AcceptInvitePage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const token = useHashToken();
  const invite = useQuery({
    queryKey: ['invite', token],
    queryFn: async () => (await postPublic<{ invite: Invite }>('/api/auth/invites/describe', { token })).invite,
    enabled: token !== null,
    retry: false,
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (token === null) return;
    const form = new FormData(event.currentTarget);
    const password = formText(form, 'password');
    const problem = passwordProblem(password, formText(form, 'confirm'));
    if (problem !== null) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const user = await acceptInvite(token, password);
      queryClient.setQueryData(authQueries.me().queryKey, user);
      await navigate({ to: '/' });
    } catch (caught) {
      setError(isApiError(caught) && caught.status < 500 ? caught.message : 'Accepting the invitation failed. Please try again.');
    } finally {
      setBusy(false);
    }
  };

  if (token === null || invite.isError) {
    return (
      <AuthCard title="Invitation not valid">
        <p role="alert" className="form-error">
          {invite.error instanceof Error ? invite.error.message : 'This link is incomplete. Open the link from the invitation email again.'}
        </p>
        <p>
          <Link to="/login">Go to sign in</Link>
        </p>
      </AuthCard>
    );
  }
  if (invite.data === undefined) {
    return (
      <AuthCard title="Accept your invitation">
        <Loading label="Checking the invitation…" />
      </AuthCard>
    );
  }
  return (
    <AuthCard
      title="Accept your invitation"
      intro={
        <>
          You are invited as <strong>{ROLE_LABELS[invite.data.role]}</strong>
          {invite.data.client_id ? (
            <>
              {' '}
              of <strong>{invite.data.client_id}</strong>
            </>
          ) : null}
          . Choose a password to finish.
        </>
      }
    >
      <form onSubmit={(event) => void submit(event)}>
        <TextField label="Email" name="email" type="email" autoComplete="username" defaultValue={invite.data.email} readOnly />
        <TextField label="Password" name="password" type="password" autoComplete="new-password" autoFocus minLength={PASSWORD_MIN_LENGTH} help={`At least ${PASSWORD_MIN_LENGTH} characters.`} />
        <TextField label="Confirm password" name="confirm" type="password" autoComplete="new-password" />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Creating your account…' : 'Create account and sign in'}
        </button>
      </form>
    </AuthCard>
  );
}
