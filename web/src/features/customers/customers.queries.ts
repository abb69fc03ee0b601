import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, type ResponseOf } from '../../lib/api.ts';
import type { CustomersSearch } from './customers.search.ts';

export type Customer = ResponseOf<'/api/clients/{clientId}/customers'>['data'][number];
export type CustomerDetail = ResponseOf<'/api/clients/{clientId}/customers/{customerId}'>;
export const PAGE_SIZE = 25;

export const customerQueries = {
  list: (clientId: string, search: CustomersSearch) =>
    queryOptions({
      queryKey: ['clients', clientId, 'customers', 'list', search] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/customers', { path: { clientId }, query: { ...search, limit: PAGE_SIZE }, signal }),
      placeholderData: keepPreviousData,
    }),
  detail: (clientId: string, customerId: string) =>
    queryOptions({
      queryKey: ['clients', clientId, 'customers', 'detail', customerId] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/customers/{customerId}', { path: { clientId, customerId }, signal }),
    }),
};
