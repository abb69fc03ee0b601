import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, type QueryOf, type ResponseOf } from '../../lib/api.ts';

export type ClientSummary = ResponseOf<'/api/admin/clients'>['clients'][number];
export type User = ResponseOf<'/api/admin/users'>['users'][number];
export type AuditEntry = ResponseOf<'/api/admin/audit'>['items'][number];
export type Alert = ResponseOf<'/api/admin/alerts'>['alerts'][number];
export type FailedJob = ResponseOf<'/api/admin/jobs/failed'>['jobs'][number];

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
  alerts: () =>
    queryOptions({
      queryKey: ['admin', 'alerts'] as const,
      queryFn: ({ signal }) => api.get('/api/admin/alerts', { signal }),
      refetchInterval: 30_000,
    }),
  clientAlerts: (clientId: string) =>
    queryOptions({
      queryKey: ['admin', 'alerts', clientId] as const,
      queryFn: ({ signal }) => api.get('/api/admin/clients/{clientId}/alerts', { path: { clientId }, query: { state: 'all', limit: 50 }, signal }),
    }),
  failedJobs: () =>
    queryOptions({
      queryKey: ['admin', 'jobs', 'failed'] as const,
      queryFn: ({ signal }) => api.get('/api/admin/jobs/failed', { signal }),
      refetchInterval: 30_000,
    }),
  audit: (query: QueryOf<'/api/admin/audit'>) =>
    queryOptions({
      queryKey: ['admin', 'audit', query] as const,
      queryFn: ({ signal }) => api.get('/api/admin/audit', { query, signal }),
      placeholderData: keepPreviousData,
    }),
};
