import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, type ResponseOf } from '../../lib/api.ts';
import type { MessagesSearch } from './messages.search.ts';

export type Message = ResponseOf<'/api/clients/{clientId}/messages'>['data'][number];
export const PAGE_SIZE = 25;

export const messageQueries = {
  list: (clientId: string, search: MessagesSearch) =>
    queryOptions({
      queryKey: ['clients', clientId, 'messages', search] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/messages', { path: { clientId }, query: { ...search, limit: PAGE_SIZE }, signal }),
      placeholderData: keepPreviousData,
    }),
};
