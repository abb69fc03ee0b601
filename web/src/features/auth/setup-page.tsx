import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { isApiError } from '../../lib/api.ts';
import { completeSetup } from '../../lib/session.ts';
import { AuthCard, formText, TextField } from './auth-card.tsx';
import { authQueries } from './auth.queries.ts';
import { PASSWORD_MIN_LENGTH, passwordProblem } from './password-rules.ts';
import { AuthFormEnd, failureMessage, useAuthForm } from './use-auth-form.tsx';

/** First run: the platform admin is created here, with the one-time token from the server log. */
export function SetupPage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const form = useAuthForm({
    check: (values) => passwordProblem(formText(values, 'password'), formText(values, 'confirm')),
    action: async (values) => {
      const user = await completeSetup({ setup_token: formText(values, 'setup_token').trim(), email: formText(values, 'email'), password: formText(values, 'password') });
      queryClient.setQueryData(authQueries.me().queryKey, user);
      await navigate({ to: '/operator' });
    },
    describeError: (caught) =>
      isApiError(caught, 409) ? (
        <>
          This installation is already set up. <Link to="/login">Sign in</Link>
        </>
      ) : isApiError(caught, 0) ? (
        caught.message
      ) : (
        failureMessage(caught, 'Setting up failed. Please try again.')
      ),
  });

  return (
    <AuthCard title="Set up XLNC Perception" intro="Create the platform admin: the account that adds clients and invites everyone else.">
      <form onSubmit={form.onSubmit}>
        <TextField label="Setup token" name="setup_token" autoFocus help="The server printed it in its log, on the line that starts “No users yet”." />
        <TextField label="Email" name="email" type="email" autoComplete="username" />
        <TextField label="Password" name="password" type="password" autoComplete="new-password" minLength={PASSWORD_MIN_LENGTH} help={`At least ${PASSWORD_MIN_LENGTH} characters.`} />
        <TextField label="Confirm password" name="confirm" type="password" autoComplete="new-password" />
        <AuthFormEnd error={form.error} busy={form.busy} label="Create admin and sign in" busyLabel="Creating the admin…" />
      </form>
    </AuthCard>
  );
}
