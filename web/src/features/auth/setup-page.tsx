import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { isApiError } from '../../lib/api.ts';
import { completeSetup } from '../../lib/session.ts';
import { AuthCard, formText, TextField } from './auth-card.tsx';
import { authQueries } from './auth.queries.ts';
import { PASSWORD_MIN_LENGTH, passwordProblem } from './password-rules.ts';

/** First run: the platform admin is created here, with the one-time token from the server log. */
export function SetupPage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [error, setError] = useState<{ message: string; done?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = formText(form, 'password');
    const problem = passwordProblem(password, formText(form, 'confirm'));
    if (problem !== null) {
      setError({ message: problem });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const user = await completeSetup({ setup_token: formText(form, 'setup_token').trim(), email: formText(form, 'email'), password });
      queryClient.setQueryData(authQueries.me().queryKey, user);
      await navigate({ to: '/operator' });
    } catch (caught) {
      if (isApiError(caught, 409)) setError({ message: 'This installation is already set up.', done: true });
      else if (isApiError(caught, 0)) setError({ message: caught.message });
      else if (isApiError(caught) && caught.status < 500) setError({ message: caught.message });
      else setError({ message: 'Setting up failed. Please try again.' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Set up XLNC Perception" intro="Create the platform admin: the account that adds clients and invites everyone else.">
      <form onSubmit={(event) => void submit(event)}>
        <TextField label="Setup token" name="setup_token" autoFocus help="The server printed it in its log, on the line that starts “No users yet”." />
        <TextField label="Email" name="email" type="email" autoComplete="username" />
        <TextField label="Password" name="password" type="password" autoComplete="new-password" minLength={PASSWORD_MIN_LENGTH} help={`At least ${PASSWORD_MIN_LENGTH} characters.`} />
        <TextField label="Confirm password" name="confirm" type="password" autoComplete="new-password" />
        {error ? (
          <p className="form-error" role="alert">
            {error.message} {error.done ? <Link to="/login">Sign in</Link> : null}
          </p>
        ) : null}
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Creating the admin…' : 'Create admin and sign in'}
        </button>
      </form>
    </AuthCard>
  );
}
