import { Link, type ErrorComponentProps } from '@tanstack/react-router';
import { ErrorState } from '../../ui/states.tsx';

export function NotFoundPage() {
  return (
    <main className="page" id="main">
      <div className="state state-empty">
        <h1 className="state-title">Page not found</h1>
        <p className="muted">This page does not exist, or your account cannot see it.</p>
        <Link to="/" className="button">
          Go to your dashboard
        </Link>
      </div>
    </main>
  );
}

export function RouteError({ error, reset }: ErrorComponentProps) {
  return (
    <main className="page" id="main">
      <ErrorState error={error} retry={reset} />
    </main>
  );
}
