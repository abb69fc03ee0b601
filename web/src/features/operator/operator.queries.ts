import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, type QueryOf, type ResponseOf } from '../../lib/api.ts';

export type ClientSummary = ResponseOf<'/api/admin/clients'>['clients'][number];
export type User = ResponseOf<'/api/admin/users'>['users'][number];
export type AuditEntry = ResponseOf<'/api/admin/audit'>['items'][number];

export const operatorQueries = {
  clients: () =>
    queryOptions({
      queryKey: ['admin', 'clients'] as const,
      queryFn: ({ signal }) => api.get('/api/admin/clients', { signal }),
      // Health changes while the operator watches.
      refetchInterval: 30_000,
    }),
  users: (query: QueryOf<'/api/admin/users'>) =>
    queryOptions({
      queryKey: ['admin', 'users', query] as const,
      queryFn: ({ signal }) => api.get('/api/admin/users', { query, signal }),
      placeholderData: keepPreviousData,
    }),
  audit: (query: QueryOf<'/api/admin/audit'>) =>
    queryOptions({
      queryKey: ['admin', 'audit', query] as const,
      queryFn: ({ signal }) => api.get('/api/admin/audit', { query, signal }),
      placeholderData: keepPreviousData,
    }),
};
