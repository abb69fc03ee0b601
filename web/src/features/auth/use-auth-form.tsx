/**
 * The signed-out pages' forms (sign in, setup, invitation, password reset) submit the same way:
 * a local check first (passwords match), then the request with the button busy, and what went
 * wrong shown above the button.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { isApiError } from '../../lib/api.ts';

/** The server's own words for a 4xx (it says what to fix), else `fallback`. */
export const failureMessage = (caught: unknown, fallback: string): string => (isApiError(caught) && caught.status < 500 ? caught.message : fallback);

export function useAuthForm({
  check,
  action,
  describeError,
}: {
  /** A problem found before anything is sent, or null. */
  check?: (form: FormData) => string | null;
  action: (form: FormData) => Promise<void>;
  describeError: (caught: unknown) => ReactNode;
}): { busy: boolean; error: ReactNode; onSubmit: (event: FormEvent<HTMLFormElement>) => void } {
  const [error, setError] = useState<ReactNode>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const problem = check?.(form) ?? null;
    if (problem !== null) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    void action(form)
      .catch((caught: unknown) => setError(describeError(caught)))
      .finally(() => setBusy(false));
  };
  return { busy, error, onSubmit };
}

/** The end of such a form: what went wrong, then the submit button (its label while busy). */
export function AuthFormEnd({ error, busy, label, busyLabel }: { error: ReactNode; busy: boolean; label: string; busyLabel: string }) {
  return (
    <>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="button button-primary button-block" disabled={busy}>
        {busy ? busyLabel : label}
      </button>
    </>
  );
}
