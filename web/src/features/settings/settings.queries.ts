import { queryOptions } from '@tanstack/react-query';
import { api, type ResponseOf } from '../../lib/api.ts';

export type ClientSettings = ResponseOf<'/api/clients/{clientId}/settings'>;

export const settingsQueries = {
  /** Name, status, timezone and masked configuration: the client layout and every page read it. */
  detail: (clientId: string) =>
    queryOptions({
      queryKey: ['clients', clientId, 'settings'] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/settings', { path: { clientId }, signal }),
      staleTime: 60_000,
    }),
};

/** The client's timezone (times and dates on its pages are local to it). */
export function timezoneOf(settings: ClientSettings | undefined): string {
  const zone = settings?.config?.timezone;
  return typeof zone === 'string' && zone !== '' ? zone : 'UTC';
}

export function environmentOf(settings: ClientSettings | undefined): 'test' | 'live' | null {
  const environment = settings?.config?.environment;
  return environment === 'test' || environment === 'live' ? environment : null;
}
