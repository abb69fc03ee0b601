/**
 * The signed-in session. The access token (15 minutes) lives in memory only; the refresh token in
 * localStorage, so a reload or a new tab stays signed in. Refreshes are single-flight within a tab
 * and serialized across tabs (Web Locks): refresh tokens rotate and a reused one ends the whole
 * session, so two tabs must never present the same one.
 */
import type { paths } from './api-types.ts';
import { ApiError, errorFrom } from './api-error.ts';

type TokenResponse = paths['/api/auth/login']['post']['responses'][200]['content']['application/json'];
export type SessionUser = TokenResponse['user'];
export type SessionEndReason = 'signed_out' | 'expired';

const REFRESH_KEY = 'xlnc.refresh_token';
/** Refresh this long before the access token expires, so no request is sent with a dying one. */
const EXPIRY_MARGIN_MS = 30_000;

let access: { token: string; expiresAt: number } | null = null;
let inflight: Promise<string | null> | null = null;
const endListeners = new Set<(reason: SessionEndReason) => void>();

function readRefreshToken(): string | null {
  try {
    return localStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

function store(tokens: TokenResponse): void {
  access = { token: tokens.access_token, expiresAt: Date.now() + tokens.expires_in * 1000 };
  localStorage.setItem(REFRESH_KEY, tokens.refresh_token);
}

/** The current access token, or null when there is none or it is about to expire. */
export function accessToken(): string | null {
  return access !== null && access.expiresAt - EXPIRY_MARGIN_MS > Date.now() ? access.token : null;
}

/** Whether this browser holds a session (it may still turn out to be expired). */
export const hasSession = (): boolean => readRefreshToken() !== null;

export function onSessionEnd(listener: (reason: SessionEndReason) => void): () => void {
  endListeners.add(listener);
  return () => endListeners.delete(listener);
}

export function endSession(reason: SessionEndReason): void {
  const had = access !== null || readRefreshToken() !== null;
  access = null;
  try {
    localStorage.removeItem(REFRESH_KEY);
  } catch {
    // Storage unavailable: nothing kept.
  }
  if (had) for (const listener of endListeners) listener(reason);
}

// Signing out in one tab signs out every tab.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (event.key === REFRESH_KEY && event.newValue === null && access !== null) {
      access = null;
      for (const listener of endListeners) listener('signed_out');
    }
  });
}

async function postJson(url: string, body: unknown): Promise<Response> {
  try {
    return await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network_error', 'The server could not be reached. Check your connection and try again.');
  }
}

/** Posts to an endpoint that answers with a new session (login, first-run setup, an accepted invite) and keeps it. */
async function startSession(url: string, body: unknown): Promise<SessionUser> {
  const response = await postJson(url, body);
  if (!response.ok) throw await errorFrom(response);
  const tokens = (await response.json()) as TokenResponse;
  store(tokens);
  return tokens.user;
}

export function signIn(email: string, password: string): Promise<SessionUser> {
  return startSession('/api/auth/login', { email, password });
}

/** First run: creates the platform admin with the setup token from the server log, and signs them in. */
export function completeSetup(input: { setup_token: string; email: string; password: string }): Promise<SessionUser> {
  return startSession('/api/auth/setup', input);
}

/** Accepts an invitation: creates the account with its password and signs it in. */
export function acceptInvite(token: string, password: string): Promise<SessionUser> {
  return startSession('/api/auth/invites/accept', { token, password });
}

/** A public POST (the link in an email is the credential): the JSON answer, or the error envelope as an ApiError. */
export async function postPublic<T = undefined>(url: string, body: unknown): Promise<T> {
  const response = await postJson(url, body);
  if (!response.ok) throw await errorFrom(response);
  return (response.status === 204 || response.status === 202 ? undefined : await response.json()) as T;
}

/** Whether this is a fresh install (no users): the sign-in page then sends people to the setup page. */
export async function setupNeeded(): Promise<boolean> {
  try {
    const response = await fetch('/api/auth/setup', { headers: { accept: 'application/json' } });
    return response.ok && ((await response.json()) as { needed?: unknown }).needed === true;
  } catch {
    // Unknown: the sign-in page says what is wrong when the user tries.
    return false;
  }
}

/**
 * A fresh access token from the refresh token, or null when the session is over (no token, or the
 * API refused it). Other failures (network, 5xx, 429) throw: the session may still be good.
 */
export function refreshSession(options: { force?: boolean } = {}): Promise<string | null> {
  const current = accessToken();
  if (!options.force && current !== null) return Promise.resolve(current);
  inflight ??= (async () => {
    const run = async (): Promise<string | null> => {
      // Read inside the lock: another tab may have just rotated it.
      const refreshToken = readRefreshToken();
      if (refreshToken === null) return null;
      const response = await postJson('/api/auth/refresh', { refresh_token: refreshToken });
      if (response.ok) {
        const tokens = (await response.json()) as TokenResponse;
        store(tokens);
        return tokens.access_token;
      }
      if (response.status === 400 || response.status === 401) {
        access = null;
        return null;
      }
      throw await errorFrom(response);
    };
    try {
      return typeof navigator !== 'undefined' && 'locks' in navigator ? await navigator.locks.request('xlnc-session-refresh', run) : await run();
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

export async function signOut(): Promise<void> {
  const refreshToken = readRefreshToken();
  if (refreshToken !== null) {
    // Best effort: the session ends here whatever the server says.
    await postJson('/api/auth/logout', { refresh_token: refreshToken }).catch(() => undefined);
  }
  endSession('signed_out');
}
