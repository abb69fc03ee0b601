import { queryOptions } from '@tanstack/react-query';
import { api, type ResponseOf } from '../../lib/api.ts';

export type ClientUser = ResponseOf<'/api/clients/{clientId}/users'>['users'][number];

export const clientUserQueries = {
  list: (clientId: string) =>
    queryOptions({
      queryKey: ['clients', clientId, 'users'] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/users', { path: { clientId }, signal }),
    }),
};
