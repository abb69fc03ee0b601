import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, type ResponseOf } from '../../lib/api.ts';
import type { DateRange } from '../../lib/dates.ts';

export type Analytics = ResponseOf<'/api/clients/{clientId}/analytics'>;

export const overviewQueries = {
  /** One period's figures; `to` is a date and includes that day (client timezone). */
  analytics: (clientId: string, range: DateRange) =>
    queryOptions({
      queryKey: ['clients', clientId, 'analytics', range.from, range.to] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/analytics', { path: { clientId }, query: { from: range.from, to: range.to, bucket: 'day' }, signal }),
      placeholderData: keepPreviousData,
    }),
};
