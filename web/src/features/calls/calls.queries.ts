import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, type ResponseOf } from '../../lib/api.ts';
import { callFilters, type CallsSearch } from './calls.search.ts';

export type CallSummary = ResponseOf<'/api/clients/{clientId}/calls'>['data'][number];
export type CallDetail = ResponseOf<'/api/clients/{clientId}/calls/{callId}'>;

export const PAGE_SIZE = 25;

export const callQueries = {
  all: (clientId: string) => ['clients', clientId, 'calls'] as const,
  list: (clientId: string, search: CallsSearch) =>
    queryOptions({
      queryKey: [...callQueries.all(clientId), 'list', search] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/calls', { path: { clientId }, query: { ...search, limit: PAGE_SIZE }, signal }),
      placeholderData: keepPreviousData,
    }),
  detail: (clientId: string, callId: string) =>
    queryOptions({
      queryKey: [...callQueries.all(clientId), 'detail', callId] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/calls/{callId}', { path: { clientId, callId }, signal }),
    }),
};

/** The CSV of every call matching the page's filters (all pages), as the API streams it. */
export const exportCalls = (clientId: string, search: CallsSearch) =>
  api.download('/api/clients/{clientId}/calls.csv', { path: { clientId }, query: callFilters(search) });
