import { Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { isApiError } from '../../lib/api.ts';
import { postPublic } from '../../lib/session.ts';
import { AuthCard, formText, TextField } from './auth-card.tsx';
import { useHashToken } from './link-token.ts';
import { PASSWORD_MIN_LENGTH, passwordProblem } from './password-rules.ts';

const failure = (caught: unknown, fallback: string) => (isApiError(caught) && caught.status < 500 ? caught.message : fallback);

/** Without a token: ask for a reset email. With one (the emailed link): choose the new password. */
export function ResetPasswordPage() {
  const token = useHashToken();
  return token === null ? <RequestReset /> : <ChooseNewPassword token={token} />;
}

function RequestReset() {
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const email = formText(new FormData(event.currentTarget), 'email');
    setBusy(true);
    setError(null);
    try {
      await postPublic('/api/auth/password-reset', { email });
      setSentTo(email);
    } catch (caught) {
      setError(failure(caught, 'Sending the link failed. Please try again.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthCard title="Reset your password" intro="We email you a link to choose a new one. It works once, for an hour.">
      {sentTo !== null ? (
        <p className="notice" role="status">
          If {sentTo} has an account, a link is on its way. Check your inbox.
        </p>
      ) : (
        <form onSubmit={(event) => void submit(event)}>
          <TextField label="Email" name="email" type="email" autoComplete="username" autoFocus />
          {error ? (
            <p className="form-error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {busy ? 'Sending…' : 'Email me a link'}
          </button>
        </form>
      )}
      <p>
        <Link to="/login">Back to sign in</Link>
      </p>
    </AuthCard>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
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
      await postPublic('/api/auth/password-reset/confirm', { token, password });
      await navigate({ to: '/login', search: { reason: 'password_reset' } });
    } catch (caught) {
      setError(failure(caught, 'Setting the password failed. Please try again.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthCard title="Choose a new password" intro="Every device signed in to this account is signed out when you save it.">
      <form onSubmit={(event) => void submit(event)}>
        <TextField label="New password" name="password" type="password" autoComplete="new-password" autoFocus minLength={PASSWORD_MIN_LENGTH} help={`At least ${PASSWORD_MIN_LENGTH} characters.`} />
        <TextField label="Confirm password" name="confirm" type="password" autoComplete="new-password" />
        {error ? (
          <p className="form-error" role="alert">
            {error} <a href="/reset-password">Ask for a new link</a>
          </p>
        ) : null}
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Saving…' : 'Save the new password'}
        </button>
      </form>
    </AuthCard>
  );
}
