import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { isApiError } from '../../lib/api.ts';
import { signIn } from '../../lib/session.ts';
import { SignedOutBrand } from '../branding/signed-out-brand.tsx';
import { formText } from './auth-card.tsx';
import { authQueries } from './auth.queries.ts';
import { AuthFormEnd, useAuthForm } from './use-auth-form.tsx';

function messageFor(error: unknown): string {
  if (isApiError(error, 401)) return 'That email and password do not match an active account.';
  if (isApiError(error, 429)) return 'Too many attempts. Wait a minute, then try again.';
  if (isApiError(error, 0)) return 'The server could not be reached. Check your connection and try again.';
  return 'Signing in failed. Please try again.';
}

const NOTICES: Record<string, string> = {
  signed_out: 'You are signed out.',
  password_changed: 'Your password was changed and every device signed out. Sign in with the new password.',
  password_reset: 'Your new password is set. Sign in with it.',
  signed_out_everywhere: 'You are signed out on every device.',
};

export function LoginPage({ reason, redirectTo }: { reason?: string | undefined; redirectTo?: string | undefined }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const form = useAuthForm({
    action: async (values) => {
      const user = await signIn(formText(values, 'email'), formText(values, 'password'));
      queryClient.setQueryData(authQueries.me().queryKey, user);
      // Only a path on this site: a crafted link must not send the user elsewhere.
      const target = redirectTo?.startsWith('/') && !redirectTo.startsWith('//') ? redirectTo : '/';
      await navigate({ to: target });
    },
    describeError: messageFor,
  });

  return (
    <main className="login" id="main">
      <div className="login-card">
        <SignedOutBrand />
        <h1>Sign in</h1>
        <p className="muted">Your AI receptionist’s calls, bookings and messages.</p>
        {reason === 'expired' ? (
          <p className="notice" role="status">
            Your session ended. Sign in again to continue.
          </p>
        ) : reason !== undefined && reason in NOTICES ? (
          <p className="notice" role="status">
            {NOTICES[reason]}
          </p>
        ) : null}
        <form onSubmit={form.onSubmit} noValidate={false}>
          <label className="field">
            <span>Email</span>
            <input name="email" type="email" autoComplete="username" required autoFocus />
          </label>
          <label className="field">
            <span>Password</span>
            <input name="password" type="password" autoComplete="current-password" required />
          </label>
          <AuthFormEnd error={form.error} busy={form.busy} label="Sign in" busyLabel="Signing in…" />
        </form>
        <p className="login-links">
          <Link to="/reset-password">Forgot your password?</Link>
        </p>
      </div>
    </main>
  );
}
