import { useQuery } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '../../lib/api.ts';
import { endSession } from '../../lib/session.ts';
import { PageHeader } from '../../ui/states.tsx';
import { formText, TextField } from '../auth/auth-card.tsx';
import { authQueries } from '../auth/auth.queries.ts';
import { PASSWORD_MIN_LENGTH, passwordProblem } from '../auth/password-rules.ts';
import { ROLE_LABELS } from '../operator/operator.search.ts';

/** The signed-in user's own account: change the password, sign out on every device. */
export function AccountPage() {
  const me = useQuery(authQueries.me());
  const navigate = useNavigate();
  const [error, setError] = useState<{ field?: 'current_password' | 'new_password'; message: string } | null>(null);
  const [busy, setBusy] = useState<'password' | 'everywhere' | null>(null);

  // Both end every session of the account, this tab's included: sign in again afterwards.
  const signedOut = async (reason: 'password_changed' | 'signed_out_everywhere') => {
    endSession('signed_out');
    await navigate({ to: '/login', search: { reason } });
  };

  const changePassword = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = formText(form, 'new_password');
    const problem = passwordProblem(next, formText(form, 'confirm'));
    if (problem !== null) {
      setError({ field: 'new_password', message: problem });
      return;
    }
    setBusy('password');
    setError(null);
    try {
      await api.post('/api/auth/password', { current_password: formText(form, 'current_password'), new_password: next });
      await signedOut('password_changed');
    } catch (caught) {
      if (isApiError(caught, 401) && caught.code === 'invalid_credentials') setError({ field: 'current_password', message: 'That is not your current password.' });
      else setError({ message: isApiError(caught) && caught.status < 500 ? caught.message : 'Changing the password failed. Please try again.' });
    } finally {
      setBusy(null);
    }
  };

  const signOutEverywhere = async () => {
    setBusy('everywhere');
    try {
      await api.post('/api/auth/logout-all', undefined);
      await signedOut('signed_out_everywhere');
    } catch (caught) {
      setError({ message: isApiError(caught) && caught.status < 500 ? caught.message : 'Signing out everywhere failed. Please try again.' });
      setBusy(null);
    }
  };

  return (
    <main className="page" id="main">
      <PageHeader title="Your account" description={me.data ? `${me.data.email} · ${ROLE_LABELS[me.data.role]}` : undefined} />
      <div className="settings">
        <section className="card" aria-labelledby="password-title">
          <h2 id="password-title">Change password</h2>
          <p className="muted">Every device signed in to this account is signed out, this one too; sign in again with the new password.</p>
          <form className="form-stack" onSubmit={(event) => void changePassword(event)}>
            <TextField label="Current password" name="current_password" type="password" autoComplete="current-password" error={error?.field === 'current_password' ? error.message : undefined} />
            <TextField
              label="New password"
              name="new_password"
              type="password"
              autoComplete="new-password"
              minLength={PASSWORD_MIN_LENGTH}
              help={`At least ${PASSWORD_MIN_LENGTH} characters.`}
              error={error?.field === 'new_password' ? error.message : undefined}
            />
            <TextField label="Confirm new password" name="confirm" type="password" autoComplete="new-password" />
            {error && error.field === undefined ? (
              <p className="form-error" role="alert">
                {error.message}
              </p>
            ) : null}
            <div>
              <button type="submit" className="button button-primary" disabled={busy !== null}>
                {busy === 'password' ? 'Changing…' : 'Change password'}
              </button>
            </div>
          </form>
        </section>
        <section className="card" aria-labelledby="everywhere-title">
          <h2 id="everywhere-title">Sign out everywhere</h2>
          <p className="muted">Ends every session of this account on every device at once, for example after using a shared computer.</p>
          <button type="button" className="button" disabled={busy !== null} onClick={() => void signOutEverywhere()}>
            {busy === 'everywhere' ? 'Signing out…' : 'Sign out everywhere'}
          </button>
        </section>
      </div>
    </main>
  );
}
