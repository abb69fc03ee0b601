import { queryOptions } from '@tanstack/react-query';
import { api, type ResponseOf } from '../../lib/api.ts';

export type Brand = ResponseOf<'/api/branding'>['brand'];

export const brandingQueries = {
  /** The brand of the host the page came from (a client's custom host, else the platform's): before sign-in. */
  forHost: () =>
    queryOptions({
      queryKey: ['branding', 'host'] as const,
      // Public: a plain fetch, since the API client needs (and otherwise ends) a session.
      queryFn: async ({ signal }) => {
        const response = await fetch('/api/branding', { headers: { accept: 'application/json' }, signal });
        if (!response.ok) throw new Error(`GET /api/branding answered ${response.status}`);
        return ((await response.json()) as ResponseOf<'/api/branding'>).brand;
      },
      staleTime: 5 * 60_000,
    }),
  /** A client's brand: its users' pages and the operator's view of the client. */
  client: (clientId: string) =>
    queryOptions({
      queryKey: ['clients', clientId, 'branding'] as const,
      queryFn: async ({ signal }) => (await api.get('/api/clients/{clientId}/branding', { path: { clientId }, signal })).brand,
      staleTime: 5 * 60_000,
    }),
};
