import { queryOptions } from '@tanstack/react-query';
import { api } from '../../lib/api.ts';

export const authQueries = {
  /** The signed-in user (role and client): decides which pages exist. */
  me: () =>
    queryOptions({
      queryKey: ['auth', 'me'] as const,
      queryFn: async ({ signal }) => (await api.get('/api/auth/me', { signal })).user,
      staleTime: 5 * 60_000,
    }),
};
