import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, type ResponseOf } from '../../lib/api.ts';
import type { paths } from '../../lib/api-types.ts';
import type { DeliveriesSearch } from './webhooks.search.ts';

export type Subscription = ResponseOf<'/api/clients/{clientId}/webhook-subscriptions'>['items'][number];
export type SubscriptionWithSecret = ResponseOf<'/api/clients/{clientId}/webhook-subscriptions', 'post'>;
export type Delivery = ResponseOf<'/api/clients/{clientId}/webhook-deliveries'>['items'][number];
export type SubscriptionBody = paths['/api/clients/{clientId}/webhook-subscriptions']['post']['requestBody']['content']['application/json'];
export type EventType = SubscriptionBody['event_types'][number];
export const PAGE_SIZE = 25;

export const webhookQueries = {
  /** Everything under this key changes when a subscription does. */
  all: (clientId: string) => ['clients', clientId, 'webhooks'] as const,
  subscriptions: (clientId: string) =>
    queryOptions({
      queryKey: [...webhookQueries.all(clientId), 'subscriptions'] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/webhook-subscriptions', { path: { clientId }, signal }),
      // The last delivery changes as events go out.
      refetchInterval: 15_000,
    }),
  subscription: (clientId: string, subscriptionId: string) =>
    queryOptions({
      queryKey: [...webhookQueries.all(clientId), 'subscriptions', subscriptionId] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/webhook-subscriptions/{subscriptionId}', { path: { clientId, subscriptionId }, signal }),
    }),
  eventTypes: (clientId: string) =>
    queryOptions({
      queryKey: ['clients', clientId, 'webhook-event-types'] as const,
      queryFn: ({ signal }) => api.get('/api/clients/{clientId}/webhook-event-types', { path: { clientId }, signal }),
      staleTime: Infinity,
    }),
  deliveries: (clientId: string, subscriptionId: string, search: DeliveriesSearch) =>
    queryOptions({
      queryKey: [...webhookQueries.all(clientId), 'deliveries', subscriptionId, search] as const,
      queryFn: ({ signal }) =>
        api.get('/api/clients/{clientId}/webhook-deliveries', { path: { clientId }, query: { subscription_id: subscriptionId, ...search, limit: PAGE_SIZE }, signal }),
      placeholderData: keepPreviousData,
      // Deliveries are retried and replayed while the page is open.
      refetchInterval: 5_000,
    }),
};
