import { useSyncExternalStore } from 'react';

/** The token of an emailed link: after `#token=`, so it never reaches a server log or a Referer header. */
export function tokenFromHash(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token !== null && /^[\w.-]{10,2000}$/.test(token) ? token : null;
}

/** The token in this page's address, following changes of the part after # (a link opened in the same tab). */
export function useHashToken(): string | null {
  return useSyncExternalStore(
    (onChange) => {
      window.addEventListener('hashchange', onChange);
      return () => window.removeEventListener('hashchange', onChange);
    },
    () => tokenFromHash(window.location.hash),
  );
}
