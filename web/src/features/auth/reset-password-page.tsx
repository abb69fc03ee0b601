import { Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { postPublic } from '../../lib/session.ts';
import { AuthCard, formText, TextField } from './auth-card.tsx';
import { useHashToken } from './link-token.ts';
import { PASSWORD_MIN_LENGTH, passwordProblem } from './password-rules.ts';
import { AuthFormEnd, failureMessage, useAuthForm } from './use-auth-form.tsx';

/** Without a token: ask for a reset email. With one (the emailed link): choose the new password. */
export function ResetPasswordPage() {
  const token = useHashToken();
  return token === null ? <RequestReset /> : <ChooseNewPassword token={token} />;
}

function RequestReset() {
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useAuthForm({
    action: async (values) => {
      const email = formText(values, 'email');
      await postPublic('/api/auth/password-reset', { email });
      setSentTo(email);
    },
    describeError: (caught) => failureMessage(caught, 'Sending the link failed. Please try again.'),
  });
  return (
    <AuthCard title="Reset your password" intro="We email you a link to choose a new one. It works once, for an hour.">
      {sentTo !== null ? (
        <p className="notice" role="status">
          If {sentTo} has an account, a link is on its way. Check your inbox.
        </p>
      ) : (
        <form onSubmit={form.onSubmit}>
          <TextField label="Email" name="email" type="email" autoComplete="username" autoFocus />
          <AuthFormEnd error={form.error} busy={form.busy} label="Email me a link" busyLabel="Sending…" />
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
  const form = useAuthForm({
    check: (values) => passwordProblem(formText(values, 'password'), formText(values, 'confirm')),
    action: async (values) => {
      await postPublic('/api/auth/password-reset/confirm', { token, password: formText(values, 'password') });
      await navigate({ to: '/login', search: { reason: 'password_reset' } });
    },
    describeError: (caught) => failureMessage(caught, 'Setting the password failed. Please try again.'),
  });
  return (
    <AuthCard title="Choose a new password" intro="Every device signed in to this account is signed out when you save it.">
      <form onSubmit={form.onSubmit}>
        <TextField label="New password" name="password" type="password" autoComplete="new-password" autoFocus minLength={PASSWORD_MIN_LENGTH} help={`At least ${PASSWORD_MIN_LENGTH} characters.`} />
        <TextField label="Confirm password" name="confirm" type="password" autoComplete="new-password" />
        <AuthFormEnd
          error={
            form.error ? (
              <>
                {form.error} <a href="/reset-password">Ask for a new link</a>
              </>
            ) : null
          }
          busy={form.busy}
          label="Save the new password"
          busyLabel="Saving…"
        />
      </form>
    </AuthCard>
  );
}
