/** Loading, empty and error states: every page shows one of these before or instead of its data. */
import type { ReactNode } from 'react';
import { isApiError } from '../lib/api.ts';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children ? <p className="muted">{children}</p> : null}
    </div>
  );
}

/** What went wrong in words a business owner understands, with a retry when retrying can help. */
export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  let title = 'Something went wrong';
  let detail = 'Please try again. If it keeps happening, contact support.';
  if (isApiError(error)) {
    if (error.status === 404) {
      title = 'Not found';
      detail = 'This page does not exist, or your account cannot see it.';
    } else if (error.status === 403) {
      title = 'Not allowed';
      detail = 'Your role does not allow this.';
    } else if (error.status === 429) {
      title = 'Too many requests';
      detail = 'Wait a moment, then try again.';
    } else if (error.status === 0) {
      title = 'Cannot reach the server';
      detail = error.message;
    } else if (error.status < 500) {
      detail = error.message;
    }
  }
  const requestId = isApiError(error) ? error.requestId : null;
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{title}</p>
      <p className="muted">{detail}</p>
      {requestId ? <p className="muted small">Reference: {requestId}</p> : null}
      {retry && !(isApiError(error) && (error.status === 404 || error.status === 403)) ? (
        <button type="button" className="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** The query states in one place: loading, error (with retry), empty, or the content. */
export function QueryState<T>({
  query,
  isEmpty,
  empty,
  children,
  loadingLabel,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean; refetch: () => unknown };
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
  loadingLabel?: string;
}) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (query.data === undefined) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  if (isEmpty?.(query.data)) return <>{empty}</>;
  return <>{children(query.data)}</>;
}

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {description ? <p className="muted">{description}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}
