import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { acceptInvite, postPublic } from '../../lib/session.ts';
import { Loading } from '../../ui/states.tsx';
import { ROLE_LABELS } from '../operator/operator.search.ts';
import { AuthCard, formText, TextField } from './auth-card.tsx';
import { authQueries } from './auth.queries.ts';
import { useHashToken } from './link-token.ts';
import { PASSWORD_MIN_LENGTH, passwordProblem } from './password-rules.ts';
import { AuthFormEnd, failureMessage, useAuthForm } from './use-auth-form.tsx';

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
  const form = useAuthForm({
    check: (values) => passwordProblem(formText(values, 'password'), formText(values, 'confirm')),
    action: async (values) => {
      if (token === null) return;
      const user = await acceptInvite(token, formText(values, 'password'));
      queryClient.setQueryData(authQueries.me().queryKey, user);
      await navigate({ to: '/' });
    },
    describeError: (caught) => failureMessage(caught, 'Accepting the invitation failed. Please try again.'),
  });

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
      <form onSubmit={form.onSubmit}>
        <TextField label="Email" name="email" type="email" autoComplete="username" defaultValue={invite.data.email} readOnly />
        <TextField label="Password" name="password" type="password" autoComplete="new-password" autoFocus minLength={PASSWORD_MIN_LENGTH} help={`At least ${PASSWORD_MIN_LENGTH} characters.`} />
        <TextField label="Confirm password" name="confirm" type="password" autoComplete="new-password" />
        <AuthFormEnd error={form.error} busy={form.busy} label="Create account and sign in" busyLabel="Creating your account…" />
      </form>
    </AuthCard>
  );
}
